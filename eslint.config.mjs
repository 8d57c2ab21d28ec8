// Lint and format rules for the TypeScript control plane, the AssemblyScript core and the .mjs
// tools (docs/design.md, "Lint and format", says why ESLint). `npm run lint` checks,
// `npm run format` applies the fixable ones.
import tseslint from "typescript-eslint";
import stylistic from "@stylistic/eslint-plugin";

// The house style, written as rules so that a fix changes only what breaks it (no reprinting).
const format = {
  "@stylistic/max-len": ["error", { code: 140, tabWidth: 2, ignoreUrls: true }],
  "@stylistic/indent": ["error", 2, { SwitchCase: 1 }],
  "@stylistic/quotes": ["error", "double", { avoidEscape: true, allowTemplateLiterals: "always" }],
  "@stylistic/semi": ["error", "always"],
  "@stylistic/comma-dangle": ["error", "always-multiline"],
  "@stylistic/no-trailing-spaces": "error",
  "@stylistic/eol-last": "error",
  "@stylistic/no-multiple-empty-lines": ["error", { max: 1, maxEOF: 0, maxBOF: 0 }],
  "@stylistic/no-tabs": "error",
  "@stylistic/keyword-spacing": "error",
  "@stylistic/space-before-blocks": "error",
  "@stylistic/space-infix-ops": "error",
  "@stylistic/comma-spacing": "error",
  "@stylistic/semi-spacing": "error",
  "@stylistic/key-spacing": "error",
  "@stylistic/arrow-parens": "error",
  "@stylistic/arrow-spacing": "error",
  "@stylistic/member-delimiter-style": "error",
  "@stylistic/type-annotation-spacing": "error",
};

// Mistakes worth a red line; each has caught or would catch a real bug here.
const correctness = {
  "no-fallthrough": "error",
  "no-unreachable": "error",
  "no-dupe-keys": "error",
  "no-duplicate-case": "error",
  "no-self-compare": "error",
  "no-self-assign": "error",
  "no-cond-assign": ["error", "except-parens"],
  "no-unsafe-finally": "error",
  "no-constant-binary-expression": "error",
  "no-unused-private-class-members": "error",
  "no-var": "error",
  "prefer-const": ["error", { destructuring: "all" }],
  "curly": ["error", "multi-line"],
  "@typescript-eslint/no-unused-vars": ["error", {
    args: "after-used", argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true,
  }],
  "@typescript-eslint/no-explicit-any": "error",
  "@typescript-eslint/no-duplicate-enum-values": "error",
  "@typescript-eslint/no-unsafe-declaration-merging": "error",
  "@typescript-eslint/prefer-as-const": "error",
  "@typescript-eslint/no-namespace": "error",
  "no-restricted-syntax": ["error",
    // A double cast reaches past the type system, usually into another class's private state.
    {
      selector: "TSAsExpression > TSAsExpression > TSUnknownKeyword.typeAnnotation",
      message: "`as unknown as` reaches past the type system: give the other side a public API",
    },
  ],
};

export default [
  { ignores: ["assembly/gen/**", "src/gen/**", "firmware/include/gen/**", "dist/**", "build/**", "node_modules/**", "test/fixtures/**"] },
  {
    files: ["**/*.ts", "**/*.mjs"],
    plugins: { "@typescript-eslint": tseslint.plugin, "@stylistic": stylistic },
    languageOptions: { parser: tseslint.parser, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: { ...format, ...correctness },
  },
  {
    // AssemblyScript: decorators on functions (`@inline function`) are not TypeScript, so the
    // parser is told to accept them. A module may assign a global it imports (RIP, CPL), so a
    // `let` that its own file never reassigns is not a const; `==` compares values there.
    // Handlers keep the signature of their dispatch table whether or not they use every argument.
    files: ["assembly/**/*.ts"],
    languageOptions: { parserOptions: { allowInvalidAST: true } },
    rules: {
      "prefer-const": "off",
      "@typescript-eslint/no-unused-vars": ["error", { args: "none", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    files: ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "**/*.mjs"],
    rules: { "eqeqeq": ["error", "always"] },
  },
];
