// What every renderer returns: the file's text and the warnings about its input (never an error:
// invalid input throws through `must`, a warning is something rendered around).
import type { Warning } from '../../schema/warnings.ts';

export type { Warning };

export interface Rendered {
  output: string;
  warnings: Warning[];
}
