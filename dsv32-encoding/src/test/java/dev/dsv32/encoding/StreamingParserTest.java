package dev.dsv32.encoding;

import static dev.dsv32.encoding.CompletionTexts.D;
import static dev.dsv32.encoding.CompletionTexts.EOS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dsv32.encoding.StreamEvent.ContentDelta;
import dev.dsv32.encoding.StreamEvent.ReasoningDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallArgumentsDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallFinished;
import dev.dsv32.encoding.StreamEvent.ToolCallStarted;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Event-level behaviour of the streaming parser: what comes out when, and what is held back. */
class StreamingParserTest {

    @Test
    void eventsComeAsSoonAsTheyAreDecided() {
        StreamingParser p = new StreamingParser(ThinkingMode.THINKING);
        assertEquals(List.of(new ReasoningDelta("Need the")), p.feed("Need the"));
        assertEquals(List.of(new ReasoningDelta(" weather.")), p.feed(" weather.</th"));
        assertEquals(List.of(new ContentDelta("Checking")), p.feed("ink>Checking\n"));
        // "\n\n" may be the start of a tool-call block: held back, and so is a partial marker.
        assertEquals(List.of(), p.feed("\n<\uFF5CDS"));
        assertEquals(List.of(), p.feed("ML\uFF5Cfunction_calls>\n<" + D + "invoke name=\"get_weather\""));
        assertEquals(List.of(new ToolCallStarted(0, "get_weather")), p.feed(">\n"));
        assertEquals(List.of(), p.feed("<" + D + "parameter name=\"city\" string=\"true\">Par"));
        assertEquals(List.of(new ToolCallArgumentsDelta(0, "{\"city\": \"Paris\"")), p.feed("is</" + D + "parameter>\n"));
        assertEquals(List.of(new ToolCallArgumentsDelta(0, ", \"days\": 2")),
                p.feed("<" + D + "parameter name=\"days\" string=\"false\">2</" + D + "parameter>\n"));
        List<StreamEvent> close = p.feed("</" + D + "invoke>\n</" + D + "function_calls>");
        ToolCall call = ToolCall.of("get_weather", "{\"city\": \"Paris\", \"days\": 2}");
        assertEquals(List.of(new ToolCallArgumentsDelta(0, "}"), new ToolCallFinished(0, call)), close);
        assertEquals(List.of(), p.feed(EOS));
        List<StreamEvent> end = p.finish();
        assertEquals(1, end.size());
        ParseResult r = ((StreamEvent.Done) end.get(0)).result();
        assertEquals("Need the weather.", r.message().reasoningContent());
        assertEquals("Checking", r.message().content());
        assertEquals(List.of(call), r.message().toolCalls());
        assertEquals(List.of(), r.repairs());
    }

    @Test
    void heldBackTextThatIsNotAMarkerIsReleased() {
        StreamingParser p = new StreamingParser(ThinkingMode.CHAT);
        assertEquals(List.of(new ContentDelta("x")), p.feed("x <\uFF5C"));
        assertEquals(List.of(new ContentDelta(" <\uFF5Cnot a marker")), p.feed("not a marker"));
        assertEquals(List.of(), p.feed("\n\n"));
        assertEquals(List.of(new ContentDelta("\n\nmore")), p.feed("more"));
    }

    @Test
    void splitMultiByteCharactersAndSurrogatesPassThrough() {
        String text = "\uD83D\uDE00 ok" + EOS;
        CompletionTexts.Collected c = CompletionTexts.streamCharByChar(text, ThinkingMode.CHAT, ParseOptions.defaults());
        assertEquals("\uD83D\uDE00 ok", c.content.toString());
    }

    @Test
    void unwrappedInvokeIsBufferedUntilItCloses() {
        StreamingParser p = new StreamingParser(ThinkingMode.CHAT);
        assertEquals(List.of(new ContentDelta("a")), p.feed("a\n\n<" + D + "invoke name=\"f\">\n"));
        assertEquals(List.of(), p.feed("<" + D + "parameter name=\"k\" string=\"true\">v</" + D + "parameter>\n"));
        List<StreamEvent> events = p.feed("</" + D + "invoke>" + EOS);
        assertEquals(List.of(new ToolCallStarted(0, "f"), new ToolCallArgumentsDelta(0, "{\"k\": \"v\""),
                new ToolCallArgumentsDelta(0, "}"), new ToolCallFinished(0, ToolCall.of("f", "{\"k\": \"v\"}"))), events);
        assertTrue(p.finish().get(0) instanceof StreamEvent.Done);
    }

    @Test
    void failedInvokeIsAnnouncedAndItsIndexReused() {
        StreamingParser p = new StreamingParser(ThinkingMode.CHAT);
        p.feed(CompletionTexts.block("<" + D + "invoke name=\"bad\">\n{oops\n</" + D + "invoke>",
                CompletionTexts.invoke("good")) + EOS);
        List<StreamEvent> events = p.finish();
        ParseResult r = ((StreamEvent.Done) events.get(events.size() - 1)).result();
        assertEquals(List.of(ToolCall.of("good", "{}")), r.message().toolCalls());
    }

    @Test
    void misuseIsAnError() {
        StreamingParser p = new StreamingParser(ThinkingMode.CHAT);
        assertThrows(IllegalStateException.class, p::result);
        p.finish();
        assertThrows(IllegalStateException.class, () -> p.feed("x"));
        assertThrows(IllegalStateException.class, p::finish);
    }
}
