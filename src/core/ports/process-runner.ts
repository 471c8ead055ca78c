// Host processes for the CLI (`pic up`'s build steps, `docker logs -f`, `docker exec -it … sh`): argv
// arrays, never a shell, the terminal handed to the child. The spawn driver implements it.

export interface ProcessResult {
  /** Exit status, or null when a signal ended the process. */
  status: number | null;
  signal: string | null;
}

export interface ProcessRunner {
  /** Runs cmd with args to completion, sharing this process's stdin, stdout and stderr. */
  run(cmd: string, args: readonly string[], opts?: { cwd?: string }): ProcessResult;
}
