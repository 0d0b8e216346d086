// Staff accounts for the browser tests: regulators and operators cannot sign up through the
// portal, they are created with the CLI (`infobank admin create-regulator|create-operator`), the
// password on standard input. The command runs the same binary as the test server, against the
// same data (the server's data directory, and $E2E_DATABASE_URL as INFOBANK_DATABASE_URL when
// set, exactly as the server gets them), while the server is running.

import { spawn } from 'node:child_process';
import { serverEnv } from './server.js';

const CLI_TIMEOUT_MS = 30_000;
const ROLES = new Set(['regulator', 'operator']);

/**
 * Runs the test server's binary with `args` and the server's environment, writing `stdin` (if
 * given) to its standard input. Resolves to { stdout, stderr }; rejects with the command, exit
 * status and output when it fails. `app` is what useApp() returned (its server must be running).
 */
export function runCli(app, args, { stdin } = {}) {
  const server = app.server;
  if (!server?.dataDir || !server?.bin) throw new Error('runCli: the test server is not running (call it inside a test)');
  const shown = `${server.bin} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(server.bin, args, { env: serverEnv(server.dataDir), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    const output = () => `--- stdout ---\n${stdout || '(empty)'}\n--- stderr ---\n${stderr || '(empty)'}`;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${shown}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${shown} exited with code ${code}${signal ? ` (signal ${signal})` : ''}\n${output()}`));
        return;
      }
      resolve({ stdout, stderr, output });
    });
    child.stdin.on('error', () => {}); // the exit status tells what went wrong
    child.stdin.end(stdin ?? '');
  });
}

/**
 * Runs `infobank admin create-<role> --email <email> [--name <name>]` with `password` on stdin.
 * Resolves to { id, stdout, stderr } where `id` is the new account's id from "created <role>
 * account <id>"; rejects with the command, exit status and output when the command fails.
 */
export async function createStaff(app, role, email, password, { name } = {}) {
  if (!ROLES.has(role)) throw new Error(`createStaff: role must be 'regulator' or 'operator', not ${JSON.stringify(role)}`);
  const args = ['admin', `create-${role}`, '--email', email];
  if (name !== undefined) args.push('--name', name);
  // The password goes on stdin, never in the arguments.
  const { stdout, stderr, output } = await runCli(app, args, { stdin: `${password}\n` });
  const match = stdout.match(new RegExp(`^created ${role} account (\\S+)\\s*$`, 'm'));
  if (!match) {
    throw new Error(`${app.server.bin} ${args.join(' ')} succeeded but did not print "created ${role} account <id>"\n${output()}`);
  }
  return { id: match[1], stdout, stderr };
}
