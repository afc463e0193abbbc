// The fixture's suite, with the contract of @vscode/test-electron: run() settles when done,
// rejects on failure. No mocha: a few named checks are enough to prove the harness.
const vscode = require('vscode');
const assert = require('node:assert/strict');

const checks = {
  'the command returns the greeting': async () => {
    assert.equal(await vscode.commands.executeCommand('harnessFixture.hello'), 'Hello from the harness fixture');
  },
  'the opened folder is the fixture workspace': async () => {
    assert.deepEqual((vscode.workspace.workspaceFolders ?? []).map((f) => f.name), ['workspace']);
  },
  'it runs in VS Code 1.139 (code-server)': async () => {
    assert.match(vscode.version, /^1\.139\./);
  },
};

async function runChecks(all) {
  let failures = 0;
  for (const [name, check] of Object.entries(all)) {
    try {
      await check();
      console.log(`  ✓ ${name}`);
    } catch (err) {
      failures++;
      console.log(`  ✗ ${name}: ${err.message}`);
    }
  }
  console.log(`${Object.keys(all).length - failures} passing, ${failures} failing`);
  if (failures) throw new Error(`${failures} check(s) failed`);
}

module.exports = { run: () => runChecks(checks), runChecks, checks };
