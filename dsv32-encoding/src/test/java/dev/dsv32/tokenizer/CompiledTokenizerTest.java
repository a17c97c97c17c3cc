package dev.dsv32.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The build's compiled tokenizer is exactly the bundled tokenizer.json, and a damaged one is refused. */
class CompiledTokenizerTest {

    @Test
    void compiledFormHoldsTheSameModelAsTheJson() throws Exception {
        TokenizerModel fromJson;
        try (InputStream in = Tokenizer.class.getResourceAsStream("tokenizer.json")) {
            fromJson = TokenizerModel.fromJson(TokenizerLoader.read(in, "json"), "json");
        }
        TokenizerModel compiled;
        try (InputStream in = Tokenizer.class.getResourceAsStream("tokenizer.bin")) {
            compiled = TokenizerModel.read(in, "bin");
        }
        assertEquals(fromJson, compiled);
        assertEquals(fromJson, TokenizerModel.read(new ByteArrayInputStream(fromJson.toBytes()), "round trip"));
        Tokenizer json = Tokenizer.loadBundledJson();
        Random r = new Random(2);
        for (int i = 0; i < 2_000; i++) {
            String s = DjlDifferentialTest.randomText(r);
            assertArrayEquals(json.encode(s), Tokenizer.v32().encode(s));
        }
        for (int id = 0; id < json.size(); id += 97) assertEquals(json.token(id), Tokenizer.v32().token(id));
    }

    @Test
    void damagedCompiledFormIsRefused() throws Exception {
        byte[] good;
        try (InputStream in = Tokenizer.class.getResourceAsStream("tokenizer.bin")) {
            good = in.readAllBytes();
        }
        assertThrows(TokenizerException.class, () -> TokenizerModel.read(new ByteArrayInputStream(Arrays.copyOf(good, 1000)), "cut"));
        byte[] bad = good.clone();
        bad[0] ^= 1;
        assertThrows(TokenizerException.class, () -> TokenizerModel.read(new ByteArrayInputStream(bad), "magic"));
    }
}
