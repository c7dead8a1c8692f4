// End-to-end tests run the compiled services: build them first (incremental, fast when current).
const { execSync } = require('node:child_process');

module.exports = () => {
  execSync('npm run build --silent', { cwd: __dirname + '/..', stdio: 'inherit' });
};
