package dev.dsv32.api.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ToolRegistryTest {
    static final ObjectMapper JSON = new ObjectMapper();

    enum Priority { LOW, @JsonProperty("high") HIGH }

    record Address(@Param("Street and number") String street, String city) {}

    record Order(@Param("Customer name") String customer, List<Address> addresses, Priority priority,
                 Optional<String> note, Map<String, Integer> items, int count, double total, boolean gift) {}

    public static final class Shop {
        @Tool("Places an order")
        public String place(@Param("The order") Order order, @Param(value = "Dry run", required = false) Boolean dryRun) {
            return order.customer() + ":" + order.addresses().size() + ":" + order.priority() + ":" + order.note().orElse("-") + ":" + dryRun;
        }

        @Tool(name = "sum", value = "Adds numbers")
        public long sum(List<Long> values) {
            return values.stream().mapToLong(Long::longValue).sum();
        }

        public String notATool() {
            return "";
        }
    }

    @Test
    void schemasComeFromJavaTypesViaJackson() throws Exception {
        ToolRegistry reg = ToolRegistry.builder().add(new Shop()).build();
        assertEquals(List.of("place", "sum"), reg.definitions().stream().map(ToolDefinition::name).sorted().toList());
        JsonNode place = reg.get("place").orElseThrow().parameters();
        JsonNode expected = JSON.readTree("""
                {"type":"object","properties":{
                  "order":{"type":"object","description":"The order","properties":{
                    "customer":{"type":"string","description":"Customer name"},
                    "addresses":{"type":"array","items":{"type":"object","properties":{
                       "street":{"type":"string","description":"Street and number"},"city":{"type":"string"}},
                       "required":["street","city"],"additionalProperties":false}},
                    "priority":{"type":"string","enum":["LOW","high"]},
                    "note":{"type":"string"},
                    "items":{"type":"object","additionalProperties":{"type":"integer"}},
                    "count":{"type":"integer"},"total":{"type":"number"},"gift":{"type":"boolean"}},
                    "required":["customer","addresses","priority","items","count","total","gift"],"additionalProperties":false},
                  "dryRun":{"type":"boolean","description":"Dry run"}},
                 "required":["order"],"additionalProperties":false}""");
        assertEquals(expected, place);
        assertEquals(JSON.readTree("{\"type\":\"object\",\"properties\":{\"values\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}},"
                + "\"required\":[\"values\"],\"additionalProperties\":false}"), reg.get("sum").orElseThrow().parameters());
        // The spec as the encoder renders it.
        assertEquals("Adds numbers", reg.get("sum").orElseThrow().spec().function().description());
    }

    @Test
    void annotatedMethodsReceiveTypedArguments() throws Exception {
        ToolRegistry reg = ToolRegistry.builder().add(new Shop()).build();
        JsonNode args = JSON.readTree("{\"order\":{\"customer\":\"Ada\",\"addresses\":[{\"street\":\"1 Main\",\"city\":\"X\"}],"
                + "\"priority\":\"high\",\"items\":{\"tea\":2},\"count\":1,\"total\":2.5,\"gift\":false}}");
        assertTrue(SchemaValidator.validate(reg.get("place").orElseThrow().parameters(), args).isEmpty());
        assertEquals("Ada:1:HIGH:-:null", reg.get("place").orElseThrow().handler().call(args));
        assertEquals(6L, reg.get("sum").orElseThrow().handler().call(JSON.readTree("{\"values\":[1,2,3]}")));
    }

    record AddArgs(int x, int y) {}

    @Test
    void lambdasWithTypedArgumentsExplicitSchemasOrOpenAiSpecs() throws Exception {
        ToolRegistry reg = ToolRegistry.builder()
                .add("add", "Adds", AddArgs.class, a -> a.x() + a.y())
                .add("echo", "Echoes", JSON.readTree("{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}"),
                        a -> a.get("text").asText())
                .addSpec(JSON.readTree("{\"type\":\"function\",\"function\":{\"name\":\"now\",\"description\":\"Time\"}}"), a -> "noon")
                .build();
        assertEquals(5, reg.get("add").orElseThrow().handler().call(JSON.readTree("{\"x\":2,\"y\":3}")));
        assertEquals("hi", reg.get("echo").orElseThrow().handler().call(JSON.readTree("{\"text\":\"hi\"}")));
        assertEquals(JSON.readTree("{\"type\":\"object\",\"properties\":{}}"), reg.get("now").orElseThrow().parameters());
        assertEquals(List.of("add", "echo", "now"), reg.specs().stream().map(t -> t.name()).toList());
        ToolRegistry more = reg.with(new ToolDefinition("x", "", JSON.createObjectNode().put("type", "object"), a -> 1));
        assertEquals(3, reg.size());
        assertEquals(4, more.size());
    }

    @Test
    void badDefinitionsAreRejectedNamingTheProblem() throws Exception {
        ToolRegistry.Builder b = ToolRegistry.builder().add(new Shop());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> b.add(new Shop()));
        assertTrue(dup.getMessage().contains("already registered"), dup.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> ToolRegistry.builder().add("no tools here"));
        assertTrue(none.getMessage().contains("java.lang.String has no public @Tool methods"), none.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> new ToolDefinition("bad name!", "", JSON.createObjectNode().put("type", "object"), a -> 1));
        assertTrue(name.getMessage().contains("bad name!"), name.getMessage());
        IllegalArgumentException notObject = assertThrows(IllegalArgumentException.class,
                () -> ToolRegistry.builder().add("t", "", JSON.readTree("{\"type\":\"string\"}"), a -> 1));
        assertTrue(notObject.getMessage().contains("\"type\": \"object\""), notObject.getMessage());
    }

    @Test
    void validatorReportsEveryProblemWithItsPath() throws Exception {
        JsonNode schema = JsonSchemas.of(Order.class);
        List<String> errs = SchemaValidator.validate(schema, JSON.readTree(
                "{\"customer\":7,\"addresses\":[{\"street\":\"a\"}],\"priority\":\"urgent\",\"items\":{\"tea\":\"two\"},"
                        + "\"count\":1.5,\"total\":1,\"gift\":true,\"extra\":1}"));
        assertEquals(List.of(
                "$.customer: expected string, got integer 7",
                "$.addresses[0]: missing required property \"city\"",
                "$.priority: string \"urgent\" is not one of [\"LOW\",\"high\"]",
                "$.items.tea: expected integer, got string \"two\"",
                "$.count: expected integer, got number 1.5",
                "$: unknown property \"extra\" (expected customer, addresses, priority, note, items, count, total, gift)"), errs);
        assertTrue(SchemaValidator.validate(JSON.readTree("{\"type\":\"integer\",\"minimum\":1,\"maximum\":3}"), JSON.readTree("2")).isEmpty());
        assertEquals(List.of("$: 5 is greater than the maximum 3"),
                SchemaValidator.validate(JSON.readTree("{\"type\":\"integer\",\"minimum\":1,\"maximum\":3}"), JSON.readTree("5")));
        assertEquals(1, SchemaValidator.validate(JSON.readTree("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}"), JSON.readTree("1")).size());
    }
}
