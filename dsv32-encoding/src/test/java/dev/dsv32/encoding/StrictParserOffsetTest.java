package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StrictParserOffsetTest {
    @Test
    void specialTokenInContentIsReportedWhereTheContentHasIt() {
        // reasoning "r", content "</think>": the content text also occurs earlier (as the reasoning's closer).
        DsmlParseException e = assertThrows(DsmlParseException.class,
                () -> StrictParser.parse("r</think></think>" + Tokens.EOS, ThinkingMode.THINKING));
        assertEquals("Unexpected special token in content", e.reason());
        assertEquals(9, e.offset());
    }
}
