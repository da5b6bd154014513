// Fails early, with the fix, when a script runs under a Node older than the host needs.
// npm puts node_modules/.bin first on PATH for scripts, so once `npm ci` has installed the
// node-<platform> package for this machine, `node` here is Node 24 even if the system Node is older.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `ccos needs Node >= 24, but this script runs under Node ${process.versions.node}.\n` +
      'Run it through npm (npm start / npm test) after `npm ci`: npm then uses the Node 24 binary\n' +
      'installed from the node-<platform> package in node_modules/.bin. If no such package exists\n' +
      'for your platform, install Node 24 yourself.',
  );
  process.exit(1);
}
