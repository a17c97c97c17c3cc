package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.encoding.Message;
import dev.dsv32.nativ.Numerics;
import org.junit.jupiter.api.Test;

class TinyChatSmokeTest {
    @Test
    void smoke() {
        long t0 = System.nanoTime();
        try (Model m = Model.builder().tinyChat().numerics(Numerics.F32).maxContext(512).maxSequences(8).build()) {
            System.err.println("open " + (System.nanoTime() - t0) / 1e6 + " ms");
            for (int i = 0; i < 3; i++) {
                long t1 = System.nanoTime();
                GenerateResult r = m.generate(GenerateRequest.builder().messages(Message.user("Hello there, how are you?")).greedy().maxTokens(16).build());
                System.err.println(r + " " + (System.nanoTime() - t1) / 1e6 + " ms " + r.usage());
            }
        }
    }
}
