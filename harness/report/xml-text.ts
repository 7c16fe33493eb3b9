import type { TestCase } from 'junit-report-builder';

/** Characters XML 1.0 forbids (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF). */
const FORBIDDEN = /[\0-\x08\x0B\f\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

/**
 * Text XML 1.0 can hold: each forbidden character is written visibly as `\u{hex}` (an application's
 * ESC or NUL is evidence, not something to drop silently). xmlbuilder throws on them otherwise.
 */
export function xmlText(text: string): string {
  if (!FORBIDDEN.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const legal = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    out += legal ? ch : `\\u{${c.toString(16)}}`;
  }
  return out;
}

/** Every string inside `value` (a results record) passed through xmlText; the input is not changed. */
export function xmlSafe<T>(value: T): T {
  if (typeof value === 'string') return xmlText(value) as T;
  if (Array.isArray(value)) return value.map((item) => xmlSafe(item)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, xmlSafe(v)])) as T;
  return value;
}

/** How xmlbuilder writes CDATA text: only the *first* `]]>` is split (XMLStringifier.cdata). */
const XMLBUILDER_CDATA = (text: string) => text.replace(']]>', ']]]]><![CDATA[>');

interface CDataNode {
  type: number;
  value: string;
  children?: CDataNode[];
}
const CDATA_NODE = 4; // xmlbuilder's NodeType.CData

/**
 * A `]]>` in CDATA ends it; xmlbuilder splits only the first one, so text with two let an
 * application write its own XML (an extra passing <testcase>). After the case is built, each CDATA
 * node that holds one of `texts` gets every occurrence split: `]]]]><![CDATA[>`.
 */
export function splitEveryCdataEnd(testCase: TestCase, texts: () => string[]): void {
  const build = testCase.build.bind(testCase);
  testCase.build = (parent) => {
    const element = build(parent);
    const originals = new Map(texts().filter((t) => t.includes(']]>')).map((t) => [XMLBUILDER_CDATA(t), t]));
    if (originals.size === 0) return element;
    const visit = (node: CDataNode): void => {
      const original = node.type === CDATA_NODE ? originals.get(node.value) : undefined;
      if (original !== undefined) node.value = original.split(']]>').join(']]]]><![CDATA[>');
      for (const child of node.children ?? []) visit(child);
    };
    visit(element as unknown as CDataNode);
    return element;
  };
}
