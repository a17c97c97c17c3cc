/*
 * Writes the character-class table of the tokenizer's pre-tokenizer: Unicode 16.0.0, the version of the Oniguruma
 * (6.9.10, via the onig crate) inside the Hugging Face reference tokenizer: letters first assigned in Unicode 16
 * (U+13A48, U+1C89) are letters there and Unicode 17 additions (U+10940) are not. JDK 24 and 25 carry Unicode 16.0
 * character data, so this program runs on one of them; the tokenizer itself reads the generated file and never uses
 * the running JDK's Unicode data.
 *
 * Classes (bit flags): 1 L (letter), 2 M (mark), 4 N (number), 8 P (punctuation), 16 S (symbol),
 * 32 WS (Oniguruma \s: U+0009-000D, U+0085, and general categories Zs, Zl, Zp).
 * Output: text, one run per line, "<first code point in hex> <flags>", runs covering 0..10FFFF.
 *
 * Run (from dsv32-encoding/):
 *   /usr/lib/jvm/temurin-25-jdk-amd64/bin/java tools/GenUnicodeClasses.java > src/main/resources/dev/dsv32/tokenizer/unicode-classes.txt
 */
public class GenUnicodeClasses {
    public static void main(String[] args) {
        if (!Character.isDefined(0x13A48) || Character.isDefined(0x10940)) {
            throw new IllegalStateException("this JDK does not carry Unicode 16.0 character data; run it on JDK 24 or 25");
        }
        StringBuilder out = new StringBuilder();
        out.append("# Character classes for the DeepSeek-V3.2 pre-tokenizer, Unicode 16.0.0 (see tools/GenUnicodeClasses.java)\n");
        int prev = -1;
        for (int cp = 0; cp <= 0x10FFFF; cp++) {
            int f = flags(cp);
            if (f != prev) {
                out.append(Integer.toHexString(cp)).append(' ').append(f).append('\n');
                prev = f;
            }
        }
        System.out.print(out);
    }

    static int flags(int cp) {
        int f;
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER: case Character.LOWERCASE_LETTER: case Character.TITLECASE_LETTER:
            case Character.MODIFIER_LETTER: case Character.OTHER_LETTER:
                f = 1; break;
            case Character.NON_SPACING_MARK: case Character.COMBINING_SPACING_MARK: case Character.ENCLOSING_MARK:
                f = 2; break;
            case Character.DECIMAL_DIGIT_NUMBER: case Character.LETTER_NUMBER: case Character.OTHER_NUMBER:
                f = 4; break;
            case Character.CONNECTOR_PUNCTUATION: case Character.DASH_PUNCTUATION: case Character.START_PUNCTUATION:
            case Character.END_PUNCTUATION: case Character.INITIAL_QUOTE_PUNCTUATION: case Character.FINAL_QUOTE_PUNCTUATION:
            case Character.OTHER_PUNCTUATION:
                f = 8; break;
            case Character.MATH_SYMBOL: case Character.CURRENCY_SYMBOL: case Character.MODIFIER_SYMBOL: case Character.OTHER_SYMBOL:
                f = 16; break;
            default:
                f = 0;
        }
        int t = Character.getType(cp);
        if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || t == Character.SPACE_SEPARATOR || t == Character.LINE_SEPARATOR
                || t == Character.PARAGRAPH_SEPARATOR) {
            f |= 32;
        }
        return f;
    }
}
