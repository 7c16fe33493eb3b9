import { defineCommand } from './command-spec.js';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';

/** Every command's usage, options and examples: the single source of `--help` and of the parsers. */
export const SPECS = {
  run: defineCommand({
    name: 'run',
    summary: 'Run a matrix file: every cell boots its machine, runs the app through its timeline and suites; reports land in reports/<run>/.',
    args: 'FILE',
    options: {
      only: { type: 'string', multiple: true, value: 'ID|GLOB', description: 'run only the cells whose id matches (exact, or a glob with * and ?)' },
      filter: { type: 'string', value: 'EXPR', description: 'run only the cells for which a constraint expression holds, e.g. \'vcpus >= 2 and cpu != "max"\'' },
      'rerun-failed': { type: 'string', value: 'DIR', description: 'run only the failed, error, incomplete and interrupted cells of an earlier run folder' },
      shard: { type: 'string', value: 'k/n', description: 'run the k-th of n balanced, deterministic shards' },
      resume: { type: 'string', value: 'DIR', description: 'continue a run folder: run only the cells it has no result for' },
      concurrency: { type: 'string', value: 'N', description: 'cells at once (default: what cores and memory allow)' },
      repeat: { type: 'string', value: 'N', description: "run every cell N times (overrides the matrix's repeat:): pass rate, percentiles, flaky cells" },
      reports: { type: 'string', default: 'reports', value: 'DIR', description: 'where run folders are written' },
      pairwise: { type: 'boolean', description: 'reduce the axes to all pairs of values' },
      'no-snapshot': { type: 'boolean', default: false, description: 'boot every cell cold instead of restoring a golden snapshot' },
      json: { type: 'boolean', default: false, description: 'NDJSON events on stdout, the last naming the report files; text on stderr' },
      plain: { type: 'boolean', default: false, description: 'one line per event instead of a progress bar' },
      policy: { type: 'string', value: 'FILE', description: "judge the run by this qualification policy instead of the matrix's policy: (exit 0 only when qualified, 5 when not)" },
      certify: { type: 'string', value: 'BUNDLE.tar', description: 'at the end, write a signed certification bundle of the run (needs --key or --gpg-key)' },
      key: { type: 'string', value: 'FILE', description: 'the OpenSSH key that signs the --certify bundle' },
      'gpg-key': { type: 'string', value: 'ID', description: 'a GnuPG key that signs the --certify bundle too' },
    },
    examples: [
      'bothworlds run matrices/quickstart.yaml',
      'bothworlds run matrices/examples/release-gate.yaml --certify gate.tar --key ~/.ssh/id_ed25519',
      "bothworlds run matrices/quickstart.yaml --only 'qemu-nehalem-*' --json | jq -c 'select(.event == \"cell-finished\")'",
      'bothworlds run matrices/quickstart.yaml --rerun-failed reports/2026-01-01T00-00-00',
    ],
  }),
  list: defineCommand({
    name: 'list',
    summary: 'Show the expanded cells with their timelines, and which rule dropped every other combination. Nothing starts.',
    args: 'FILE',
    options: {
      pairwise: { type: 'boolean', description: 'reduce the axes to all pairs of values' },
      'no-dropped': { type: 'boolean', default: false, description: 'leave out the dropped combinations' },
      json: { type: 'boolean', default: false, description: 'one JSON object on stdout: cells (id, axes, backend, machine, timeline) and dropped' },
    },
    examples: ['bothworlds list matrices/quickstart.yaml', "bothworlds list matrices/quickstart.yaml --json | jq -r '.cells[].id'"],
  }),
  matrix: defineCommand({
    name: 'matrix',
    summary: 'Emit the shard list for a CI job: GitHub Actions strategy.matrix JSON, or a GitLab child-pipeline file.',
    args: 'FILE',
    options: {
      format: { type: 'string', default: 'github', value: 'github|gitlab', description: 'the CI the output is for' },
      shards: { type: 'string', default: '4', value: 'N', description: 'shards at most (fewer when the matrix has fewer cells)' },
      command: { type: 'string', default: 'npx bothworlds', value: 'CMD', description: 'how the gitlab jobs invoke bothworlds' },
    },
    examples: ['bothworlds matrix matrices/quickstart.yaml --format github --shards 4', 'bothworlds matrix matrices/quickstart.yaml --format gitlab --shards 3 > shards.yml'],
  }),
  merge: defineCommand({
    name: 'merge',
    summary: 'Combine the run folders of shards into one report.',
    args: 'DIR...',
    options: {
      out: { type: 'string', value: 'DIR', description: 'the folder the merged reports go to (required)' },
      'allow-partial': { type: 'boolean', default: false, description: 'merge even when shards are missing or a run did not finish (refused otherwise: the report would count only what is there)' },
    },
    examples: ['bothworlds merge shard-1/reports/* shard-2/reports/* --out merged'],
  }),
  compare: defineCommand({
    name: 'compare',
    summary: 'Outcome changes and statistically significant timing regressions between runs (each side may list several run folders, comma-separated). Exit 1 when something got worse.',
    args: 'OLD[,OLD...] NEW[,NEW...]',
    options: {
      format: { type: 'string', default: 'text', value: 'text|markdown|json', description: 'output format' },
      alpha: { type: 'string', value: 'P', description: 'significance level of the timing test (default 0.05)' },
      'allow-incomplete': { type: 'boolean', default: false, description: 'compare a run that crashed or was interrupted' },
      'allow-different-matrix': { type: 'boolean', default: false, description: 'compare runs of different matrices (name or content)' },
    },
    examples: ['bothworlds compare reports/main-run reports/branch-run --format markdown'],
  }),
  report: defineCommand({
    name: 'report',
    summary: 'Rewrite every report of a run folder from its results.jsonl after a crash, for instance.',
    args: 'DIR',
    options: {},
    examples: ['bothworlds report reports/2026-01-01T00-00-00'],
  }),
  certify: defineCommand({
    name: 'certify',
    summary: 'Write one signed, reproducible archive of a run folder: matrix, policy, results, every report, the environment, the SHA-256 of every image and payload, a manifest and its signature.',
    args: 'RUN_DIR',
    options: {
      out: { type: 'string', value: 'BUNDLE.tar', description: 'where the archive is written' },
      key: { type: 'string', value: 'FILE', description: 'sign with this OpenSSH key (ssh-keygen -Y sign; the public key with the private one in ssh-agent works too)' },
      'gpg-key': { type: 'string', value: 'ID', description: 'sign with this GnuPG key as well (or instead)' },
      policy: { type: 'string', value: 'FILE', description: 'judge a run that recorded no policy by this one' },
      unsigned: { type: 'boolean', default: false, description: 'write the archive without a signature' },
    },
    examples: ['bothworlds certify reports/release-gate-2026-01-01T00-00-00-abcdef --out gate.tar --key ~/.ssh/id_ed25519'],
  }),
  verify: defineCommand({
    name: 'verify',
    summary: 'Check a certification bundle: its signature, every file against the manifest, and that its verdict follows from results.jsonl and the policy.',
    args: 'BUNDLE.tar',
    options: {
      'allowed-signers': { type: 'string', value: 'FILE', description: 'OpenSSH allowed-signers file: who may sign bundles (principal, namespaces="bothworlds-certify@bothworlds", key)' },
      gpg: { type: 'boolean', default: false, description: 'accept a GnuPG signature your keyring verifies' },
      json: { type: 'boolean', default: false, description: 'the findings as one JSON object on stdout' },
    },
    examples: ['bothworlds verify gate.tar --allowed-signers allowed_signers'],
  }),
  boot: defineCommand({
    name: 'boot',
    summary: 'Boot a guest, run one command in it and print what it printed (default: kernel, CPUs, memory).',
    args: '[-- CMD...]',
    options: {
      cpu: { type: 'string', default: DEFAULT_MACHINE.cpuModel, value: 'MODEL', description: 'QEMU CPU model' },
      vcpus: { type: 'string', default: '1', value: 'N', description: 'vCPUs' },
      memory: { type: 'string', default: String(DEFAULT_MACHINE.memoryMiB), value: 'MiB|SIZE', description: 'guest memory: MiB, or a size such as 384M or 1G' },
      accel: { type: 'string', default: 'auto', value: 'auto|kvm|tcg', description: 'accelerator' },
      image: { type: 'string', default: 'default', value: 'default|debian-12|FILE', description: 'guest image' },
      package: { type: 'string', multiple: true, default: [], value: 'P', description: 'a Debian package to add (debian-12 only)' },
    },
    examples: ['bothworlds boot --cpu Nehalem --vcpus 2 -- nproc', 'bothworlds boot --image debian-12 --memory 1G -- systemctl is-system-running'],
  }),
  doctor: defineCommand({
    name: 'doctor',
    summary: 'Check QEMU and its known bugs, KVM, the guest image, cores and memory, with advice.',
    args: '',
    options: { fresh: { type: 'boolean', default: false, description: 'probe KVM again instead of using the cached probe' } },
    examples: ['bothworlds doctor --fresh'],
  }),
};

export type CommandName = keyof typeof SPECS;
