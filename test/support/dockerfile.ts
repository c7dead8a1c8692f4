/** Just enough of a Dockerfile to check stages, their commands and users. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

export interface DockerStage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

export const parseDockerfile = (text: string): DockerStage[] => {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: { from: string; name?: string; instructions: DockerInstruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, ...(name === undefined ? {} : { name }), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`Dockerfile: '${line}' before any FROM`);
    stage.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
};

/** The stage and the stages it is built FROM, base first. */
export const stageChain = (stages: readonly DockerStage[], name: string): DockerStage[] => {
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined)
    throw new Error(
      `Dockerfile has no stage '${name}' (stages: ${stages.map((s) => s.name ?? s.from).join(', ')})`,
    );
  return stages.some((s) => s.name === stage.from)
    ? [...stageChain(stages, stage.from), stage]
    : [stage];
};

/** The last value of an instruction along the chain (what the image ends up with). */
export const lastInstruction = (
  stages: readonly DockerStage[],
  name: string,
  keyword: string,
): string | undefined =>
  stageChain(stages, name)
    .flatMap((stage) => stage.instructions)
    .filter((instruction) => instruction.keyword === keyword)
    .at(-1)?.args;

export const runLines = (stage: DockerStage): string[] =>
  stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
