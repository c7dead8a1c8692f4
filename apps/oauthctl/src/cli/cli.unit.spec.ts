import {
  AdminError,
  ExitCode,
  exitCodeFor,
  isCommanderParseError,
  UnreachableError,
  UsageError,
  VerificationFailed,
} from './exit-codes.js';
import { createOutput, useColour } from './output.js';

/** Commander's errors as it throws them (commander is ESM-only: specs cannot load it). */
const commanderError = (exitCode: number, code: string, name = 'CommanderError') =>
  Object.assign(new Error('x'), { exitCode, code, name });

describe('oauthctl exit codes', () => {
  it('tells scripts apart what went wrong', () => {
    expect(exitCodeFor(new AdminError('UNKNOWN_CREDENTIAL', 'no such'))).toBe(ExitCode.brokerError);
    expect(exitCodeFor(new Error('bad file'))).toBe(1);
    expect(exitCodeFor(new UsageError('x'))).toBe(2);
    expect(exitCodeFor(commanderError(1, 'commander.unknownOption'))).toBe(2);
    expect(exitCodeFor(commanderError(1, 'commander.invalidArgument'))).toBe(2);
    expect(exitCodeFor(commanderError(0, 'commander.helpDisplayed'))).toBe(0);
    expect(exitCodeFor(new UnreachableError('x'))).toBe(3);
    expect(exitCodeFor(new VerificationFailed('x'))).toBe(4);
  });

  it('knows which usage errors commander has printed already', () => {
    expect(isCommanderParseError(commanderError(1, 'commander.unknownOption'))).toBe(true);
    expect(
      isCommanderParseError(commanderError(1, 'commander.invalidArgument', 'InvalidArgumentError')),
    ).toBe(false);
    expect(isCommanderParseError(new UsageError('x'))).toBe(false);
  });
});

describe('oauthctl output', () => {
  it('colours only a terminal, and never with NO_COLOR set to something', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
  });

  it('prints text lines without --json, and only JSON documents with it, never coloured', () => {
    const written: string[] = [];
    const text = createOutput({ write: (t) => written.push(t), colour: true });
    text.line(text.paint('[ok]', 'green'));
    const json = createOutput({ json: true, write: (t) => written.push(t), colour: true });
    json.line('not for scripts');
    json.document({ ok: true, at: json.paint('x', 'red') });

    expect(written).toEqual(['\u001b[32m[ok]\u001b[39m\n', '{"ok":true,"at":"x"}\n']);
  });
});
