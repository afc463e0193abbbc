// Fixture for scripts/vscode-test.mjs: one command whose return value the tests check.
const vscode = require('vscode');

const GREETING = 'Hello from the harness fixture';

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('harnessFixture.hello', () => {
    vscode.window.showInformationMessage(GREETING);
    return GREETING;
  }));
}

function deactivate() {}

module.exports = { activate, deactivate };
