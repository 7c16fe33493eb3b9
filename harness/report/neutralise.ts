/**
 * Terminal escape sequences: CSI (colours, cursor moves, screen clears), OSC (window titles,
 * hyperlinks, clipboard writes — ended by BEL or ST), DCS/SOS/PM/APC strings, two-byte ESC
 * sequences, and their 8-bit C1 forms.
 */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x1b\x9c]*(?:\x07|\x9c)?/g;
/** What is left that a terminal would act on: C0 controls but tab, DEL, C1 controls. */
const CONTROLS = /[\0-\x08\x0B-\x1F\x7F-\x9F]/g;
/** Lines a CI runner reads as commands: GitHub (`::error::`, `::add-mask::`), Azure (`##vso[`, `##[`). */
const CI_COMMAND = /^(\s*)(::|##)/;

export interface NeutraliseOptions {
  /** In CI: defuse lines that the runner would take for workflow commands. */
  ci?: boolean;
}

/**
 * Text from an application (its output, a reason built from it) made safe for a terminal or a CI
 * log: escape sequences removed, other control characters shown as `\xNN`, every line (CR, LF or
 * CRLF) kept apart, and in CI a line starting with `::` or `##` prefixed with `\` so the runner
 * shows it instead of obeying it.
 */
export function neutralise(text: string, options: NeutraliseOptions = {}): string {
  return text
    .split(/\r\n|\n|\r/)
    .map((line) => {
      const plain = line.replace(ESCAPES, '').replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      return options.ci ? plain.replace(CI_COMMAND, '$1\\$2') : plain;
    })
    .join('\n');
}
