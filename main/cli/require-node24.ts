/*
 * The first module `ccos` evaluates (main/cli.ts imports it before anything else): an
 * installed `ccos` started by an older Node stops here with the fix, as `npm start` does
 * (scripts/require-node24.mjs), instead of failing later with a cryptic error.
 */
const [major = 0] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `ccos needs Node >= 24, but it was started by Node ${process.versions.node}.\n` +
      'Install Node 24 (https://nodejs.org), or run it from the project through npm\n' +
      '(`npm run -s ccos -- …`), which uses the Node 24 that `npm ci` installed.',
  );
  process.exit(1);
}
