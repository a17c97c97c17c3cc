package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.testing.ScriptedEngine;
import org.junit.jupiter.api.Test;

/** {@link Model#isClosed()}: what containers (Spring's bean destruction, say) and their tests check after shutdown. */
class ModelClosedTest {
    @Test
    void isClosedAfterCloseOnlyAndCloseIsIdempotent() {
        ScriptedEngine engine = ScriptedEngine.of("Hi.");
        Model model = Model.builder().engine(engine).build();
        assertFalse(model.isClosed());
        assertEquals("Hi.", model.generate(GenerateRequest.builder().messages(dev.dsv32.encoding.Message.user("x")).thinking(false).build()).content());
        model.close();
        assertTrue(model.isClosed());
        model.close();
        assertTrue(model.isClosed());
        assertThrows(IllegalStateException.class, () -> model.generate(GenerateRequest.of("again")));
        assertThrows(IllegalStateException.class, engine::openSequence, "the model closed its engine");
    }
}
