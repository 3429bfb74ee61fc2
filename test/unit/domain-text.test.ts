import { codePointLength, isWellFormedText, normalizeText, truncateText } from '../../src/domain/text.js';

const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'; // 👨‍👩‍👧: 5 code points, 1 grapheme
const THUMBS_MEDIUM = '\u{1F44D}\u{1F3FD}'; // 👍🏽: 2 code points, 1 grapheme
const E_ACUTE_NFD = 'e\u0301'; // e + combining acute: 2 code points, 1 grapheme

describe('normalizeText', () => {
  it('makes NFC and NFD spellings of one name equal (NFC output)', () => {
    const nfc = 'Zo\u00E9 B\u00E9ranger';
    const nfd = 'Zoe\u0301 Be\u0301ranger';
    expect(nfd).not.toBe(nfc);
    expect(normalizeText(nfd)).toBe(nfc);
    expect(normalizeText(nfc)).toBe(nfc);
  });

  it('composes Hangul written as conjoining jamo', () => {
    expect(normalizeText('\u1106\u1175\u11AB\u110C\u116E\u11AB')).toBe('\uBBFC\uC900'); // 민준
  });

  it('collapses tabs, newlines, NBSP and ideographic space to one space and trims', () => {
    expect(normalizeText('\tMary\t\tAnn\n')).toBe('Mary Ann');
    expect(normalizeText('\u00A0Ana\u00A0Mar\u00EDa\u00A0')).toBe('Ana Mar\u00EDa');
    expect(normalizeText('\u5927\u7FD4\u3000\u3000\u5C71\u7530')).toBe('\u5927\u7FD4 \u5C71\u7530');
    expect(normalizeText('Van \u2003 der\u202FBerg')).toBe('Van der Berg');
  });

  it('removes zero-width space, BOM, bidi marks and controls', () => {
    expect(normalizeText('Jo\u200Bhn')).toBe('John');
    expect(normalizeText('\uFEFFAda\u200E')).toBe('Ada');
    expect(normalizeText('A\u0007da\u0000')).toBe('Ada');
    expect(normalizeText('\u200B')).toBeNull();
  });

  it('keeps the zero-width joiner so ZWJ emoji sequences stay intact', () => {
    expect(normalizeText(`Family ${FAMILY}`)).toBe(`Family ${FAMILY}`);
    expect(normalizeText(` Jo \u{1F469}\u200D\u{1F692} `)).toBe('Jo \u{1F469}\u200D\u{1F692}');
  });

  it('returns NFC even when a removed invisible character separated a base letter from its combining mark', () => {
    // 'e' ZWSP U+0301: NFC cannot compose across the ZWSP; once it is removed the result must still be NFC,
    // or the same name read back from CHeKT (normalised again) never compares equal.
    const out = normalizeText('Zoe\u200B\u0301');
    expect(out).toBe('Zo\u00E9');
    expect(normalizeText(out)).toBe(out);
  });

  it('treats null, undefined, empty and blank as null', () => {
    expect(normalizeText(null)).toBeNull();
    expect(normalizeText(undefined)).toBeNull();
    expect(normalizeText('')).toBeNull();
    expect(normalizeText('   ')).toBeNull();
    expect(normalizeText('\u00A0\t\u3000')).toBeNull();
  });
});

describe('isWellFormedText', () => {
  it('accepts ordinary text, surrogate pairs and ZWJ sequences', () => {
    expect(isWellFormedText('Ada')).toBe(true);
    expect(isWellFormedText(`Sam \u{1F692} ${FAMILY}`)).toBe(true);
    expect(isWellFormedText('')).toBe(true);
  });

  it('detects a lone high or low surrogate anywhere', () => {
    expect(isWellFormedText('Ada\uD83D')).toBe(false);
    expect(isWellFormedText('\uDE92Ada')).toBe(false);
    expect(isWellFormedText('A\uD83Dda')).toBe(false);
    // Reversed pair: low then high is two lone halves.
    expect(isWellFormedText('\uDE92\uD83D')).toBe(false);
  });
});

describe('codePointLength', () => {
  it('counts code points, not UTF-16 units or graphemes', () => {
    expect(codePointLength('Ada')).toBe(3);
    expect(codePointLength('\u{1F692}')).toBe(1);
    expect(codePointLength(FAMILY)).toBe(5);
    expect(codePointLength(E_ACUTE_NFD)).toBe(2);
    expect(codePointLength('')).toBe(0);
  });
});

describe('truncateText', () => {
  it('returns input of exactly the maximum length unchanged', () => {
    expect(truncateText('abcde', 5)).toBe('abcde');
    expect(truncateText(`ab${FAMILY}`, 7)).toBe(`ab${FAMILY}`);
    expect(truncateText('abc', 10)).toBe('abc');
  });

  it('cuts plain text to the code point maximum', () => {
    expect(truncateText('abcdefgh', 5)).toBe('abcde');
  });

  it('never splits a family ZWJ sequence: drops it whole when it does not fit', () => {
    const input = `ab${FAMILY}`; // 7 code points
    for (let max = 2; max <= 6; max += 1) expect(truncateText(input, max)).toBe('ab');
  });

  it('never separates a skin tone modifier from its emoji', () => {
    expect(truncateText(`ab${THUMBS_MEDIUM}c`, 3)).toBe('ab');
    expect(truncateText(`ab${THUMBS_MEDIUM}c`, 4)).toBe(`ab${THUMBS_MEDIUM}`);
  });

  it('never separates a combining acute from its e', () => {
    expect(truncateText(`caf${E_ACUTE_NFD}s`, 4)).toBe('caf');
    expect(truncateText(`caf${E_ACUTE_NFD}s`, 5)).toBe(`caf${E_ACUTE_NFD}`);
  });

  it('respects the maximum in code points and trims white space left at the cut', () => {
    const out = truncateText('Mary Ann Smith', 5);
    expect(out).toBe('Mary');
    for (const [input, max] of [
      [`x ${FAMILY} ${THUMBS_MEDIUM}`, 6],
      ['Wolfeschlegelsteinhausenbergerdorff', 10],
    ] as const) {
      expect(codePointLength(truncateText(input, max))).toBeLessThanOrEqual(max);
    }
  });
});

describe('normalizeText: zero-width joiner', () => {
  it('drops a joiner at either end but keeps one inside (emoji sequences)', () => {
    expect(normalizeText('\u200DSmith\uFEFF')).toBe('Smith');
    expect(normalizeText(' \u200D Smith \u200D')).toBe('Smith');
    expect(normalizeText('👩\u200D🚒')).toBe('👩\u200D🚒');
  });
});
