// Type-checks generated example modules with the project's compiler options against the public
// entry points, and returns one line per problem: `<from> (<label> line N): <message>`.
import { join } from 'node:path';
import ts from 'typescript';

export interface ExampleFile {
  /** Where the code came from (source or README path:line). */
  from: string;
  /** The module it was written to. */
  file: string;
}

export function typeCheckExamples(root: string, examples: readonly ExampleFile[], label: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.base.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram(
    examples.map((e) => e.file),
    { ...config.options, noEmit: true, composite: false, declaration: false, noUnusedLocals: false },
  );
  const byFile = new Map(examples.map((e) => [e.file, e]));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && byFile.has(d.file.fileName))
    .map((d) => {
      const e = byFile.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${e.from} (${label} line ${line}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
}
