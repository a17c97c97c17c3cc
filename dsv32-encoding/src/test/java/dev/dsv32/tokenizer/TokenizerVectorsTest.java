package dev.dsv32.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The model-card seed and the Rust-reference vectors (test-vectors.json, test-vectors-edge.json) must match exactly. */
class TokenizerVectorsTest {
    private static final Tokenizer TOK = Tokenizer.v32();

    static JsonNode vectors(String name) throws IOException {
        try (InputStream in = TokenizerVectorsTest.class.getResourceAsStream("/tokenizer/" + name)) {
            return new ObjectMapper().readTree(in).get("vectors");
        }
    }

    static Stream<Arguments> allVectors() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String file : new String[] {"test-vectors.json", "test-vectors-edge.json"}) {
            int i = 0;
            for (JsonNode v : vectors(file)) {
                int[] ids = new int[v.get("ids").size()];
                for (int k = 0; k < ids.length; k++) ids[k] = v.get("ids").get(k).intValue();
                out.add(Arguments.of(file + "#" + i++, v.get("text").textValue(), ids));
            }
        }
        return out.stream();
    }

    @Test
    void modelCardSeed() {
        String seed = "<｜begin▁of▁sentence｜><｜User｜>hello<｜Assistant｜></think>Hello! I am DeepSeek.<｜end▁of▁sentence｜>"
                + "<｜User｜>1+1=?<｜Assistant｜><think>";
        assertArrayEquals(new int[] {0, 128803, 33310, 128804, 128799, 19923, 3, 342, 1030, 22651, 4374, 1465, 16, 1, 128803,
                19, 13, 19, 127252, 128804, 128798}, TOK.encode(seed));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allVectors")
    void referenceIds(String name, String text, int[] ids) {
        assertArrayEquals(ids, TOK.encode(text), () -> name + " " + text);
        assertEquals(text, TOK.decode(ids), name);
    }
}
