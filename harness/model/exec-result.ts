/** Same shape whether the command succeeded or not (execa's lesson). A model type: the guest agent, backends and suites all speak it. */
export interface ExecResult {
  command: string[];
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}
