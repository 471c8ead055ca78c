// The Node flags of every process that runs the API (cell-api's container and image, `./pic`, the backup
// benchmark's children). A test checks the Dockerfile and ./pic carry them.
//
// --max-semi-space-size=16: V8's young generation grows to two 64 MiB semi-spaces by default on this
// kind of machine (Node 24, a heap limit of several GiB), and a backup's burst of small objects grew
// it there: ~60 MiB of RSS above idle that stayed. 16 MiB (V8's old default) keeps a backup and a
// restore under 64 MiB above idle (docs/performance.md, "Backup and restore").
export const API_NODE_FLAGS = ['--max-semi-space-size=16'] as const;
