// Tests are compiled by `npm run build` (tsc) and run from dist/, so jest needs no TS transform.
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/tests"],
  testMatch: ["**/*.test.js"],
  testTimeout: 60000,
};
