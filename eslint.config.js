// ESLint (flat config): rules that find bugs, not style. Formatting is prettier's
// (.prettierrc.json, `npm run format`); tsc checks types (`npm run typecheck`). Run by
// `npm test` before the tests (`npm run lint`), with the import-cycle check
// (scripts/check-cycles.ts).
//
// Type-aware rules (the project's tsconfig) catch what tsc does not: promises nobody
// awaits or handles (a rejection that kills the process, a write that races the next
// one), promises passed where a callback's result is ignored, awaits of non-promises,
// switches that miss a case of a union, objects stringified as "[object Object]".
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/**", "scratch-*/**", "data/**", ".farm/**", "eval-set/**", "api/dashboard/ui/**", "**/*.js", "**/*.cjs", "**/*.mjs"],
  },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Plain JavaScript mistakes (eslint:recommended, minus what tsc already reports).
      ...Object.fromEntries(Object.keys(js.configs.recommended.rules).map((r) => [r, "error"])),
      "no-undef": "off", // tsc knows the globals and types
      "no-unused-vars": "off",
      "no-redeclare": "off", // overloads and declaration merging
      "no-dupe-class-members": "off", // overloads
      "no-empty": ["error", { allowEmptyCatch: true }],
      "no-constant-condition": ["error", { checkLoops: false }], // for (;;) loops
      "no-control-regex": "off", // control characters in regexes are deliberate (sanitising input)
      "no-useless-escape": "off", // style
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-unreachable-loop": "error",
      "no-constructor-return": "error",
      "array-callback-return": "error",
      "no-unused-private-class-members": "error",

      // TypeScript, type-aware.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-for-in-array": "error",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-duplicate-type-constituents": "error",
      "@typescript-eslint/no-unused-vars": ["error", { args: "none", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
    },
  },
  {
    // Layers (core/job-types/define.ts): the API reads a plugin only through its
    // job-types.ts (schemas and constants), never its runtime code (onnx, ffmpeg, models).
    files: ["api/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "(^|/)plugins/(?![\\w-]+/job-types\\.ts$)", message: "api/ may import a plugin's job-types.ts only (pure data)" }] },
      ],
    },
  },
  {
    // Layers: the coordinator, the agent and core/ never import the HTTP API (what both
    // need lives in core/, or is passed in by the process that assembles the roles).
    files: ["coordinator/**/*.ts", "node-agent/**/*.ts", "core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(\\.\\./)+api/", message: "coordinator/, node-agent/ and core/ do not import api/ (move the shared piece to core/ or pass it in)" },
          ],
        },
      ],
    },
  },
  {
    // A job-types.ts is pure data: typebox, core/ and the model catalog (models/) only, so importing it loads no plugin code.
    files: ["plugins/*/job-types.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\.(?!\\./\\.\\./(core|models)/)",
              message: "a plugin's job-types.ts imports only typebox, core/ and the model catalog (it is loaded by the API)",
            },
          ],
        },
      ],
    },
  },
  {
    // Hostile inputs on purpose: "${...}" strings and numbers past double precision.
    files: ["bench/fuzz/**/*.ts"],
    rules: { "no-template-curly-in-string": "off", "no-loss-of-precision": "off" },
  },
);
