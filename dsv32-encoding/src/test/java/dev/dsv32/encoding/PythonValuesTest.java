package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import org.junit.jupiter.api.Test;

/**
 * {@link PythonValues}: what {@code str.format} inserts for non-string content ({@code str(x)}, i.e. {@code repr} inside
 * containers), Python truthiness and {@code len}. Expected values were computed with CPython on the same JSON.
 */
class PythonValuesTest {
    /** JSON text -> Python str(json.loads(text)), computed with CPython. */
    private static final String[][] STR = {
        {"null", "None"},
        {"true", "True"},
        {"false", "False"},
        {"0", "0"},
        {"-7", "-7"},
        {"123456789012345678901234567890", "123456789012345678901234567890"},
        {"1.0", "1.0"},
        {"-0.0", "-0.0"},
        {"1e16", "1e+16"},
        {"1e-07", "1e-07"},
        {"100000.0", "100000.0"},
        {"0.1", "0.1"},
        {"NaN", "nan"},
        {"Infinity", "inf"},
        {"-Infinity", "-inf"},
        {"\"plain\"", "plain"},
        {"\"it's\"", "it's"},
        {"\"say \\\"hi\\\"\"", "say \"hi\""},
        {"\"both ' and \\\"\"", "both ' and \""},
        {"\"back\\\\slash\"", "back\\slash"},
        {"\"\"", ""},
        {"[\"a\", 1, null, true, 2.5, [], {}]", "['a', 1, None, True, 2.5, [], {}]"},
        {"[\"it's\", \"say \\\"hi\\\"\", \"both ' \\\"\"]", "[\"it's\", 'say \"hi\"', 'both \\' \"']"},
        {"[\"\\n\\t\\r\", \"\\u0000\\u0001\\u001f\\u007f\", \"\\u0085\\u00a0\\u00ad\\u00e9\", \"\\u2028\\u2029\\u200b\\ufeff\\u3000\", \"\\u4e2d\\ud83d\\ude00\", \"\\udb40\\udc01\", \"\\ue000\", \"\\u0378\", \"\\ud800\", \"\\\\\"]", "['\\n\\t\\r', '\\x00\\x01\\x1f\\x7f', '\\x85\\xa0\\xad\u00e9', '\\u2028\\u2029\\u200b\\ufeff\\u3000', '\u4e2d\ud83d\ude00', '\\U000e0001', '\\ue000', '\\u0378', '\\ud800', '\\\\']"},
        {"{\"a\": [1, 2.5, null, true], \"b\": {}, \"it's\": \"x\", \"\\u4e2d\": [NaN, Infinity, -Infinity, 1e+16]}", "{'a': [1, 2.5, None, True], 'b': {}, \"it's\": 'x', '\u4e2d': [nan, inf, -inf, 1e+16]}"},
        {"[[[]], {\"k\": {\"k\": [false]}}]", "[[[]], {'k': {'k': [False]}}]"},
        {"{\"\": \"\"}", "{'': ''}"},
    };
    /** JSON text -> bool(json.loads(text)). */
    private static final Object[][] TRUTH = {
        {"null", false},
        {"true", true},
        {"false", false},
        {"0", false},
        {"1", true},
        {"-1", true},
        {"0.0", false},
        {"-0.0", false},
        {"1e-300", true},
        {"NaN", true},
        {"\"\"", false},
        {"\"0\"", true},
        {"\" \"", true},
        {"[]", false},
        {"[0]", true},
        {"{}", false},
        {"{\"a\": null}", true},
        {"\"False\"", true},
        {"100000000000000000000000", true},
        {"0e5", false},
    };
    /** JSON text -> len(json.loads(text)). */
    private static final Object[][] LEN = {
        {"\"abc\"", 3},
        {"\"\"", 0},
        {"\"\\ud83d\\ude00a\"", 2},
        {"\"\\u4e2d\\u6587\"", 2},
        {"[1, 2, 3]", 3},
        {"[]", 0},
        {"{\"a\": 1, \"b\": 2}", 2},
    };

    @Test
    void strMatchesPython() {
        for (String[] c : STR) assertEquals(c[1], PythonValues.str(PythonJson.loads(c[0])), c[0]);
    }

    @Test
    void reprOfAStringQuotesAndEscapesLikePython() {
        assertEquals("'plain'", PythonValues.repr(PythonJson.loads("\"plain\"")));
        assertEquals("\"it's\"", PythonValues.repr(PythonJson.loads("\"it's\"")));
        assertEquals("'both \\' \"'", PythonValues.repr(PythonJson.loads("\"both ' \\\"\"")));
        assertEquals("'\\x00\\t\\n\\r\\x7f\\x85\\xa0\\u2028\\U000e0001\u00e9\ud83d\ude00'",
                PythonValues.repr(PythonJson.loads("\"\\u0000\\t\\n\\r\\u007f\\u0085\\u00a0\\u2028\\udb40\\udc01\\u00e9\\ud83d\\ude00\"")));
    }

    @Test
    void missingAndJavaNullAreNone() {
        assertEquals("None", PythonValues.str(null));
        assertEquals("None", PythonValues.str(MissingNode.getInstance()));
        assertEquals("None", PythonValues.repr(JsonNodeFactory.instance.nullNode()));
    }

    @Test
    void truthinessMatchesPython() {
        for (Object[] c : TRUTH) assertEquals(c[1], PythonValues.truthy(PythonJson.loads((String) c[0])), (String) c[0]);
        assertFalse(PythonValues.truthy(null));
        assertFalse(PythonValues.truthy(MissingNode.getInstance()));
        assertTrue(PythonValues.truthy(JsonNodeFactory.instance.numberNode(Double.NaN)));
    }

    @Test
    void lenMatchesPython() {
        for (Object[] c : LEN) assertEquals(c[1], PythonValues.len(PythonJson.loads((String) c[0])), (String) c[0]);
        // len() of a number, bool or None raises TypeError in Python.
        assertEquals(-1, PythonValues.len(PythonJson.loads("5")));
        assertEquals(-1, PythonValues.len(PythonJson.loads("true")));
        assertEquals(-1, PythonValues.len(PythonJson.loads("null")));
        assertEquals(-1, PythonValues.len(null));
    }

    @Test
    void printableFollowsPythonForStableCategories() {
        assertTrue(PythonValues.isPrintable('a'));
        assertTrue(PythonValues.isPrintable(' '));
        assertTrue(PythonValues.isPrintable(0x4e2d));
        assertTrue(PythonValues.isPrintable(0x1f600));
        assertFalse(PythonValues.isPrintable(0x3000));   // Zs other than space
        assertFalse(PythonValues.isPrintable(0x2028));   // Zl
        assertFalse(PythonValues.isPrintable(0x200b));   // Cf
        assertFalse(PythonValues.isPrintable(0xe000));   // Co
        assertFalse(PythonValues.isPrintable(0xd800));   // Cs
        assertFalse(PythonValues.isPrintable(0x0378));   // Cn
    }
}
