import { execa } from 'execa';

/**
 * The shared libraries a dynamic executable needs (and its loader), from `ldd`. A static binary
 * needs none.
 */
export async function sharedLibraries(executable: string): Promise<string[]> {
  const result = await execa('ldd', [executable], { reject: false });
  if (result.exitCode !== 0 || /not a dynamic executable|statically linked/.test(`${result.stdout}${result.stderr}`)) return [];
  const libraries: string[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  return [...new Set(libraries)];
}
