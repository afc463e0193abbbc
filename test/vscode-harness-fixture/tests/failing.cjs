// The same suite plus one check that must fail: shows the harness reports exit code 1.
const { runChecks, checks } = require('./index.cjs');

module.exports = {
  run: () => runChecks({
    ...checks,
    'deliberately failing check': async () => {
      throw new Error('this check fails on purpose');
    },
  }),
};
