package dev.dsv32.api.tools;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.Tool;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The tools an agent offers the model. Immutable and thread-safe; {@link #with} returns a new registry. Three ways
 * to define a tool:
 *
 * <pre>{@code
 * ToolRegistry tools = ToolRegistry.builder()
 *         .add(new WeatherTools())                                          // @Tool methods
 *         .add("add", "Adds two numbers", AddArgs.class, a -> a.x() + a.y()) // a lambda, schema from a record
 *         .add("echo", "Echoes", schemaJson, args -> args.get("text"))       // a lambda with an explicit JSON schema
 *         .build();
 * }</pre>
 */
public final class ToolRegistry {
    private static final ToolRegistry EMPTY = new ToolRegistry(new LinkedHashMap<>());

    private final Map<String, ToolDefinition> tools;

    private ToolRegistry(Map<String, ToolDefinition> tools) {
        this.tools = tools;
    }

    public static ToolRegistry empty() {
        return EMPTY;
    }

    public static Builder builder() {
        return new Builder(new LinkedHashMap<>());
    }

    public Builder toBuilder() {
        return new Builder(new LinkedHashMap<>(tools));
    }

    /** A registry with {@code tool} added. */
    public ToolRegistry with(ToolDefinition tool) {
        return toBuilder().add(tool).build();
    }

    public boolean isEmpty() {
        return tools.isEmpty();
    }

    public int size() {
        return tools.size();
    }

    public Optional<ToolDefinition> get(String name) {
        return Optional.ofNullable(tools.get(name));
    }

    /** The tools, in registration order. */
    public Collection<ToolDefinition> definitions() {
        return List.copyOf(tools.values());
    }

    /** The declarations for a request ({@link dev.dsv32.api.GenerateRequest.Builder#tools}). */
    public List<Tool> specs() {
        List<Tool> out = new ArrayList<>(tools.size());
        for (ToolDefinition d : tools.values()) out.add(d.spec());
        return out;
    }

    @Override
    public String toString() {
        return "ToolRegistry" + tools.keySet();
    }

    /** A function from a typed argument object (deserialised with Jackson) to a result. */
    @FunctionalInterface
    public interface TypedHandler<A> {
        Object apply(A arguments) throws Exception;
    }

    /** Collects tools; a duplicate name is an error naming both. Not thread-safe. */
    public static final class Builder {
        private final Map<String, ToolDefinition> tools;

        private Builder(Map<String, ToolDefinition> tools) {
            this.tools = tools;
        }

        public Builder add(ToolDefinition tool) {
            Objects.requireNonNull(tool, "tool");
            if (tools.containsKey(tool.name())) throw new IllegalArgumentException("a tool named " + tool.name() + " is already registered");
            tools.put(tool.name(), tool);
            return this;
        }

        /** A tool from a lambda with an explicit JSON schema of its arguments object. */
        public Builder add(String name, String description, JsonNode parametersSchema, ToolHandler handler) {
            Objects.requireNonNull(parametersSchema, "parametersSchema");
            if (!parametersSchema.isObject()) throw new IllegalArgumentException("tool " + name + ": the parameters schema must be a JSON object, got " + parametersSchema);
            return add(new ToolDefinition(name, description, (ObjectNode) parametersSchema, handler));
        }

        /** A tool whose arguments are a record or bean {@code A}: its schema is derived from the type. */
        public <A> Builder add(String name, String description, Class<A> argumentsType, TypedHandler<? super A> handler) {
            Objects.requireNonNull(argumentsType, "argumentsType");
            Objects.requireNonNull(handler, "handler");
            ObjectNode schema = JsonSchemas.of(argumentsType);
            if (!"object".equals(schema.path("type").asText())) {
                throw new IllegalArgumentException("tool " + name + ": the arguments type " + argumentsType.getName() + " must be a record or bean (a JSON object)");
            }
            return add(new ToolDefinition(name, description, schema,
                    args -> handler.apply(JsonSchemas.MAPPER.treeToValue(args, argumentsType))));
        }

        /**
         * A tool from its OpenAI-format declaration ({@code {"type":"function","function":{"name":…,"description":…,
         * "parameters":{…}}}}, or just the function object).
         */
        public Builder addSpec(JsonNode spec, ToolHandler handler) {
            Objects.requireNonNull(spec, "spec");
            JsonNode fn = spec.has("function") ? spec.get("function") : spec;
            if (!fn.isObject() || !fn.path("name").isTextual()) {
                throw new IllegalArgumentException("a tool spec needs a \"name\" string (OpenAI format), got " + spec);
            }
            String name = fn.get("name").asText();
            JsonNode params = fn.get("parameters");
            ObjectNode schema;
            if (params == null || params.isNull()) {
                schema = JsonSchemas.MAPPER.createObjectNode().put("type", "object");
                schema.putObject("properties");
            } else if (params.isObject()) {
                schema = (ObjectNode) params;
            } else {
                throw new IllegalArgumentException("tool " + name + ": \"parameters\" must be a JSON schema object, got " + params);
            }
            return add(new ToolDefinition(name, fn.path("description").asText(""), schema, handler));
        }

        /**
         * Every {@link dev.dsv32.api.tools.Tool @Tool} method of {@code target} (public methods, including inherited
         * ones; static methods when {@code target} is a {@code Class}), in method-name order: reflection does not keep
         * the declaration order, and the tools' order is part of the prompt, so it must not vary between runs.
         *
         * @throws IllegalArgumentException when it has none, or a parameter has no name (compile with {@code -parameters}
         *     or set {@link Param#name()})
         */
        public Builder add(Object target) {
            Objects.requireNonNull(target, "target");
            Class<?> type = target instanceof Class<?> c ? c : target.getClass();
            Object receiver = target instanceof Class<?> ? null : target;
            int found = 0;
            Method[] methods = type.getMethods();
            java.util.Arrays.sort(methods, java.util.Comparator.comparing(Method::getName).thenComparing(Method::toString));
            for (Method m : methods) {
                dev.dsv32.api.tools.Tool t = m.getAnnotation(dev.dsv32.api.tools.Tool.class);
                if (t == null) continue;
                if (receiver == null && !Modifier.isStatic(m.getModifiers())) {
                    throw new IllegalArgumentException("@Tool method " + type.getName() + "." + m.getName() + " is not static: register an instance");
                }
                add(fromMethod(receiver, m, t));
                found++;
            }
            if (found == 0) throw new IllegalArgumentException(type.getName() + " has no public @Tool methods");
            return this;
        }

        public ToolRegistry build() {
            return tools.isEmpty() ? EMPTY : new ToolRegistry(new LinkedHashMap<>(tools));
        }

        private static ToolDefinition fromMethod(Object receiver, Method m, dev.dsv32.api.tools.Tool t) {
            String toolName = t.name().isEmpty() ? m.getName() : t.name();
            String where = m.getDeclaringClass().getName() + "." + m.getName();
            Parameter[] ps = m.getParameters();
            ObjectNode schema = JsonSchemas.MAPPER.createObjectNode().put("type", "object");
            ObjectNode props = schema.putObject("properties");
            ArrayNode required = JsonSchemas.MAPPER.createArrayNode();
            String[] names = new String[ps.length];
            JavaType[] types = new JavaType[ps.length];
            for (int i = 0; i < ps.length; i++) {
                Param p = ps[i].getAnnotation(Param.class);
                String n = p != null && !p.name().isEmpty() ? p.name() : ps[i].isNamePresent() ? ps[i].getName() : null;
                if (n == null) {
                    throw new IllegalArgumentException(where + ": parameter " + i + " has no name: compile with -parameters or use @Param(name = ...)");
                }
                names[i] = n;
                types[i] = JsonSchemas.MAPPER.getTypeFactory().constructType(ps[i].getParameterizedType());
                ObjectNode s = JsonSchemas.schema(types[i], new java.util.HashSet<>());
                if (p != null && !p.value().isEmpty()) s = JsonSchemas.withDescription(s, p.value());
                props.set(n, s);
                if (!JsonSchemas.isOptional(types[i]) && (p == null || p.required())) required.add(n);
            }
            if (!required.isEmpty()) schema.set("required", required);
            schema.put("additionalProperties", false);
            m.setAccessible(true);
            ToolHandler handler = args -> {
                Object[] values = new Object[ps.length];
                for (int i = 0; i < ps.length; i++) {
                    JsonNode a = args == null ? null : args.get(names[i]);
                    values[i] = a == null || a.isNull() ? absent(types[i]) : JsonSchemas.MAPPER.convertValue(a, types[i]);
                }
                try {
                    return m.invoke(receiver, values);
                } catch (InvocationTargetException e) {
                    Throwable c = e.getCause();
                    if (c instanceof Exception ex) throw ex;
                    throw e;
                }
            };
            return new ToolDefinition(toolName, t.value(), schema, handler);
        }

        private static Object absent(JavaType t) {
            Class<?> c = t.getRawClass();
            if (c == Optional.class) return Optional.empty();
            if (c == OptionalInt.class) return OptionalInt.empty();
            if (c == OptionalLong.class) return OptionalLong.empty();
            if (c == OptionalDouble.class) return OptionalDouble.empty();
            if (c == boolean.class) return false;
            if (c == char.class) return '\0';
            if (c.isPrimitive()) return JsonSchemas.MAPPER.convertValue(0, c);
            return null;
        }
    }
}
