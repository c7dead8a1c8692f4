/** Where a command's results go: text for people, or JSON for scripts; colour only on a terminal. */
export interface Output {
  readonly json: boolean;
  /** One line of text (not printed with --json). */
  readonly line: (text: string) => void;
  /** One JSON document, or one JSON line of a stream of them. */
  readonly document: (value: unknown) => void;
  /** A progress message or prompt: standard error, so that it never mixes into the results. */
  readonly note: (text: string) => void;
  readonly paint: (text: string, colour: Colour) => string;
}

export type Colour = 'green' | 'yellow' | 'red' | 'dim' | 'bold';

const CODES: Record<Colour, [number, number]> = {
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export const useColour = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env['NO_COLOR'] ?? '') === '';

export const createOutput = (options: {
  json?: boolean;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
  colour?: boolean;
}): Output => {
  const json = options.json === true;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const writeError = options.writeError ?? ((text: string) => void process.stderr.write(text));
  const colour = !json && (options.colour ?? useColour(process.stdout, process.env));
  return {
    json,
    line: (text) => {
      if (!json) write(`${text}\n`);
    },
    document: (value) => write(`${JSON.stringify(value)}\n`),
    note: (text) => writeError(`${text}\n`),
    paint: (text, name) => {
      if (!colour) return text;
      const [on, off] = CODES[name];
      return `\u001b[${on}m${text}\u001b[${off}m`;
    },
  };
};
