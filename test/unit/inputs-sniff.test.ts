/** Type sniffing and the SSRF address policy: pure functions, no I/O. */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { sniffType } from "../../api/inputs/sniff.ts";
import { isNonPublicAddress } from "../../core/net/address-policy.ts";

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(64)]);

describe("sniffType", () => {
  const cases: [string, Buffer, string, string[]][] = [
    ["png", bytes([0x89], "PNG\r\n\x1a\n"), "image/png", ["image"]],
    ["jpeg", bytes([0xff, 0xd8, 0xff, 0xe0]), "image/jpeg", ["image"]],
    ["gif", bytes("GIF89a"), "image/gif", ["image"]],
    ["webp", bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "), "image/webp", ["image"]],
    ["wav", bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "), "audio/wav", ["audio"]],
    ["mp3 (ID3)", bytes("ID3", [4, 0]), "audio/mpeg", ["audio"]],
    ["mp3 (frame sync)", bytes([0xff, 0xfb, 0x90, 0x64]), "audio/mpeg", ["audio"]],
    ["flac", bytes("fLaC"), "audio/flac", ["audio"]],
    ["ogg", bytes("OggS"), "audio/ogg", ["audio"]],
    ["m4a", bytes([0, 0, 0, 0x20], "ftypM4A "), "audio/mp4", ["audio"]],
    ["mp4", bytes([0, 0, 0, 0x20], "ftypisom"), "video/mp4", ["video", "audio"]],
    ["mov", bytes([0, 0, 0, 0x14], "ftypqt  "), "video/quicktime", ["video"]],
    ["webm", bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84], "webm"), "video/webm", ["video", "audio"]],
    ["mkv", bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x88], "matroska"), "video/x-matroska", ["video", "audio"]],
  ];
  for (const [name, head, type, kinds] of cases) {
    it(`recognises ${name}`, () => {
      const t = sniffType(pad(head));
      assert.equal(t?.content_type, type);
      for (const k of kinds) assert.ok(t?.kinds.includes(k as "image"), `${name} satisfies ${k}`);
      assert.ok(t?.kinds.includes("any"));
    });
  }

  it("does not let an image satisfy an audio field, or audio an image field", () => {
    assert.equal(sniffType(pad(bytes([0x89], "PNG\r\n\x1a\n")))?.kinds.includes("audio"), false);
    assert.equal(sniffType(pad(bytes("fLaC")))?.kinds.includes("image"), false);
  });

  it("returns null for text, HTML and SVG (which could carry script)", () => {
    assert.equal(sniffType(pad(bytes("hello world"))), null);
    assert.equal(sniffType(pad(bytes("<!DOCTYPE html><script>"))), null);
    assert.equal(sniffType(pad(bytes("<svg xmlns="))), null);
    assert.equal(sniffType(Buffer.alloc(0)), null);
  });
});

describe("isNonPublicAddress", () => {
  it("refuses loopback, private, link-local, metadata, unique-local and mapped forms", () => {
    for (const a of [
      "127.0.0.1",
      "127.8.9.10",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:a9fe:a9fe",
      "ff02::1",
    ]) {
      assert.equal(isNonPublicAddress(a), true, a);
    }
  });

  it("allows public unicast addresses, including public IPv4-mapped ones", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:808:808"]) assert.equal(isNonPublicAddress(a), false, a);
  });

  it("treats a non-IP string as non-public", () => {
    assert.equal(isNonPublicAddress("localhost"), true);
  });
});
