/** Where a needed flag was learned: the file's declaration, the scan of its code, or a SIGILL seen at run time. */
export type IsaEvidence = 'declared' | 'scan' | 'sigill';

export interface LackingFlag {
  flag: string;
  evidence: IsaEvidence;
  file: string;
  /** "vpbroadcastd in main at 0x40151e" */
  detail?: string;
}

/** What the application needs from the CPU, against what this cell's CPU gives; stored with the cell's result. */
export interface IsaPrediction {
  /** Every flag the app's files need (declared or found), e.g. ['avx', 'avx2']. */
  needs: string[];
  /** "x86-64-v3 (avx, avx2)"; absent when the app needs nothing beyond the baseline. */
  needsText?: string;
  /** The CPU the cell gets ("Nehalem", "this host"); absent when not known before the run (SSH). */
  cpu?: string;
  /** Needed flags the cell's CPU lacks: the cell is expected to fail. */
  lacking: LackingFlag[];
  /** Files that choose code paths at run time: "libfoo.so: 12 ifuncs (may use avx2, avx512f)". */
  dispatch: string[];
  /** Why no prediction could be made for this cell. */
  unknown?: string;
  /** "expected to fail: the app needs avx2 (found by scan: vpbroadcastd in main), which Nehalem lacks". */
  expected?: string;
  /** Filled in after a SIGILL (harness/cpu/sigill.ts). */
  sigill?: { instruction: string; flag?: string; file: string; address: string };
}
