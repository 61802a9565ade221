/**
 * Hostile values by family. URL inputs all point at loopback forms of one canary port:
 * the fuzz run fails if anything ever connects to it (the farm must refuse private
 * addresses before connecting), and nothing leaves the machine even if it did.
 */
export const traversal = [
  "../../../../../../etc/passwd",
  "..%2f..%2f..%2f..%2fetc%2fpasswd",
  "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
  "/etc/passwd",
  "file:///etc/passwd",
  "outputs/../../../etc/passwd",
  "uploads/../state/jobs.journal",
  "....//....//etc/passwd",
  "..\\..\\..\\windows\\win.ini",
  "C:\\Windows\\win.ini",
  "/proc/self/environ",
  "outputs/%00../../etc/passwd",
  "artifact://../../etc/passwd",
  "upload://../../etc/passwd",
  "/dev/zero",
  "/dev/urandom",
  "~/.ssh/id_rsa",
  "\\\\?\\C:\\x",
  "outputs/./././../x",
  "//etc/passwd",
];

export const oddStrings = [
  "\u0000",
  "a\u0000b",
  "\u0000".repeat(64),
  "\ud800",
  "\udfff",
  "\ud83d",
  "x\ud800y",
  "\u202e\u0066\u0064\u0070\u002e\u0065\u0078\u0065",
  "\ufeff",
  "\u200b\u200c\u200d",
  "\uffff\ufffe",
  "🍌".repeat(200),
  "e\u0301".repeat(100),
  "\u0085\u2028\u2029",
  "%00",
  "%",
  "%%%",
  "%ff%fe",
  "\r\nX-Injected: 1",
  "${jndi:ldap://127.0.0.1/a}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "\x1b[31mred",
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "",
  " ",
  "\t\n",
  "null",
  "undefined",
  "true",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
];

export function ssrfUrls(port: number): string[] {
  return [
    `http://127.0.0.1:${port}/a.png`,
    `http://localhost:${port}/a.png`,
    `http://[::1]:${port}/a.png`,
    `http://0x7f000001:${port}/a.png`,
    `http://2130706433:${port}/a.png`,
    `http://127.1:${port}/a.png`,
    `http://0177.0.0.1:${port}/a.png`,
    `http://[::ffff:127.0.0.1]:${port}/a.png`,
    `http://[::ffff:7f00:1]:${port}/a.png`,
    `http://0.0.0.0:${port}/a.png`,
    `http://user:pass@127.0.0.1:${port}/a.png`,
    `http://127.0.0.1.:${port}/a.png`,
    `https://127.0.0.1:${port}/a.png`,
    `http://LOCALHOST:${port}/a.png`,
    `http://localhost.:${port}/a.png`,
    `gopher://127.0.0.1:${port}/_x`,
    `ftp://127.0.0.1:${port}/a.png`,
    `ws://127.0.0.1:${port}/`,
    `http://127.0.0.1:${port}/%2e%2e/%2e%2e/etc/passwd`,
    `http://127.0.0.1:${port}#@example.invalid/a.png`,
    `http://example.invalid@127.0.0.1:${port}/a.png`,
    `http://[0:0:0:0:0:0:0:1]:${port}/a.png`,
    `http://127.0.0.1:${port}\\@example.invalid/`,
  ];
}

/** Values of another JSON type than the schema wants (and some that break JSON numbers). */
export const wrongTypes: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -1e308,
  1e308,
  9007199254740993,
  "",
  "1",
  "true",
  [],
  [1, "a"],
  {},
  { a: 1 },
  [[[]]],
  Number.MIN_VALUE,
  -0,
  "0x10",
  "1e3",
  ["__proto__"],
];

/** Keys that pollute prototypes when a body is merged carelessly. */
export const pollutionBodies = [
  '{"__proto__":{"fuzz_polluted":"yes","isAdmin":true}}',
  '{"constructor":{"prototype":{"fuzz_polluted":"yes"}}}',
  '{"__proto__":{"__proto__":{"fuzz_polluted":"yes"}}}',
  '{"prototype":{"fuzz_polluted":"yes"}}',
  '{"__proto__":null}',
  '{"__proto__":[]}',
  '{"hasOwnProperty":"x","toString":1,"valueOf":{}}',
];

export const pollutionQueries = [
  "__proto__[fuzz_polluted]=yes",
  "constructor[prototype][fuzz_polluted]=yes",
  "__proto__.fuzz_polluted=yes",
  "a[__proto__][fuzz_polluted]=yes",
  "toString=1",
  "hasOwnProperty=1",
];

/** Syntax a JSON parser must refuse (never half-accept). */
export function malformedJson(valid: string, pickN: (n: number) => number): string {
  const cut = valid.length > 2 ? valid.slice(0, 1 + pickN(valid.length - 1)) : "{";
  const options = [
    cut,
    `${valid}garbage`,
    `${valid}}`,
    valid.replace(/"/g, "'"),
    `\ufeff${valid}`,
    "{",
    "[",
    "}",
    '"',
    "nul",
    "tru",
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":-Infinity}',
    "{'a':1}",
    '{"a":1,}',
    '{"a" 1}',
    '{"a":01}',
    '{"a":.5}',
    '{"a":"\\x41"}',
    '{"a":"\\u12"}',
    '{"a":"\n"}',
    "/* c */{}",
    '{"a":1 // c\n}',
    "\u0000",
    "{}\u0000",
    `${valid}\n${valid}`,
    '{"a":1,"a":2,"a":{"__proto__":{}}}',
    "1",
    "-",
    "[]",
    "null",
    '"string"',
    "true",
  ];
  return options[pickN(options.length)]!;
}

/** Bytes that are not UTF-8 (invalid sequences, overlong forms, a lone continuation byte). */
export const invalidUtf8: Buffer[] = [
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]),
];
