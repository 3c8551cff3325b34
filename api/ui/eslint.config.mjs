// eslint over the UI's own ES modules (static/js/); the vendored libraries are not ours to lint.
// Run by bin/lint-ui (and so by bin/test).
import js from "@eslint/js";
import importPlugin from "eslint-plugin-import";
import globals from "globals";

export default [
  { ignores: ["static/vendor/", "node_modules/"] },
  js.configs.recommended,
  importPlugin.flatConfigs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      // The vendored UMD builds put Chart and cytoscape on window; modules reach them through it.
      globals: globals.browser,
    },
    rules: {
      // The dependency graph points one way: app.js -> router.js and pages -> api.js, ui.js.
      "import/no-cycle": ["error", { ignoreExternal: true }],
      "import/no-self-import": "error",
      "import/no-useless-path-segments": "error",
      "import/extensions": ["error", "always"],
      "import/first": "error",
      "import/no-duplicates": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all" }],
      "no-shadow": "error",
      "eqeqeq": "error",
      "prefer-const": "error",
      "no-var": "error",
    },
  },
];
