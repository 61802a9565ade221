/**
 * Media type sniffing from magic bytes. The type a client declares (a file name, a
 * Content-Type, a data-URL prefix) is never trusted: what the bytes say decides how an
 * input is stored and which fields may take it.
 */

/** What a request field takes. `any` accepts every supported media format. */
export type MediaKind = "image" | "audio" | "video" | "any";

export interface SniffedType {
  /** Short format name: png, jpeg, webp, gif, wav, mp3, flac, ogg, m4a, mp4, mov, webm, mkv. */
  format: string;
  content_type: string;
  /** File extension used in content-addressed keys, without the dot. */
  ext: string;
  /** The primary family of the format (decides the size limit). */
  family: "image" | "audio" | "video";
  /**
   * Field kinds this format satisfies. Containers that commonly carry audio only
   * (browser recordings are audio-only WebM; phones record .mp4/.m4a) also satisfy
   * `audio`, since the audio pipeline decodes them with ffmpeg.
   */
  kinds: readonly MediaKind[];
}

/** Bytes needed to recognise every supported format. */
export const SNIFF_BYTES = 64;

const t = (format: string, content_type: string, ext: string, family: SniffedType["family"], extra: MediaKind[] = []): SniffedType => ({
  format,
  content_type,
  ext,
  family,
  kinds: [family, ...extra, "any"],
});

const TYPES = {
  png: t("png", "image/png", "png", "image"),
  jpeg: t("jpeg", "image/jpeg", "jpg", "image"),
  webp: t("webp", "image/webp", "webp", "image"),
  gif: t("gif", "image/gif", "gif", "image"),
  wav: t("wav", "audio/wav", "wav", "audio"),
  mp3: t("mp3", "audio/mpeg", "mp3", "audio"),
  flac: t("flac", "audio/flac", "flac", "audio"),
  ogg: t("ogg", "audio/ogg", "ogg", "audio"),
  m4a: t("m4a", "audio/mp4", "m4a", "audio"),
  mp4: t("mp4", "video/mp4", "mp4", "video", ["audio"]),
  mov: t("mov", "video/quicktime", "mov", "video"),
  webm: t("webm", "video/webm", "webm", "video", ["audio"]),
  mkv: t("mkv", "video/x-matroska", "mkv", "video", ["audio"]),
} as const satisfies Record<string, SniffedType>;

/** The formats a field of this kind takes (what a refusal lists: an image field is not offered mp3). */
export const formatsFor = (kind: MediaKind): string[] =>
  Object.values(TYPES).flatMap((x) => ((x.kinds as readonly MediaKind[]).includes(kind) ? [x.format] : []));
/** Every extension a content-addressed upload key can have. */
export const UPLOAD_EXTENSIONS: readonly string[] = [...new Set(Object.values(TYPES).map((x) => x.ext))];

const ascii = (b: Buffer, start: number, end: number) => b.toString("latin1", start, end);

/** Recognise the format from the first bytes (at least SNIFF_BYTES when the file is that long), or null. */
export function sniffType(head: Buffer): SniffedType | null {
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) return TYPES.png;
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return TYPES.jpeg;
  if (head.length >= 6 && (ascii(head, 0, 6) === "GIF87a" || ascii(head, 0, 6) === "GIF89a")) return TYPES.gif;
  if (head.length >= 12 && ascii(head, 0, 4) === "RIFF") {
    const form = ascii(head, 8, 12);
    if (form === "WEBP") return TYPES.webp;
    if (form === "WAVE") return TYPES.wav;
    return null;
  }
  if (head.length >= 4 && ascii(head, 0, 4) === "fLaC") return TYPES.flac;
  if (head.length >= 4 && ascii(head, 0, 4) === "OggS") return TYPES.ogg;
  if (head.length >= 12 && ascii(head, 4, 8) === "ftyp") {
    const brand = ascii(head, 8, 12);
    if (brand === "qt  ") return TYPES.mov;
    if (brand === "M4A " || brand === "M4B ") return TYPES.m4a;
    return TYPES.mp4;
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    // EBML: the DocType string sits in the header's first few dozen bytes.
    return ascii(head, 0, Math.min(head.length, SNIFF_BYTES)).includes("webm") ? TYPES.webm : TYPES.mkv;
  }
  if (head.length >= 3 && ascii(head, 0, 3) === "ID3") return TYPES.mp3;
  // Bare MPEG audio frame sync: 11 set bits, MPEG layer III.
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && ((head[1]! >> 1) & 0x3) === 0x1) return TYPES.mp3;
  return null;
}

/** The family a declared MIME type claims ("image/png" -> image), or null when it claims none. */
export function declaredFamily(contentType: string | undefined): "image" | "audio" | "video" | null {
  const top = contentType?.split("/")[0]?.trim().toLowerCase();
  return top === "image" || top === "audio" || top === "video" ? top : null;
}
