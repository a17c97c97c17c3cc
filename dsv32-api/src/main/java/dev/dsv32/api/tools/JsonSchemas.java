package dev.dsv32.api.tools;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.temporal.Temporal;
import java.util.HashSet;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/**
 * JSON schemas of Java types, derived with Jackson's type and property introspection, so that a schema describes
 * exactly what Jackson reads into the type: strings, numbers, booleans, enums (their Jackson names), arrays and
 * collections, {@code Map<String, V>}, {@code Optional<T>} (not required), records and beans (their Jackson
 * properties; descriptions from {@link Param} or {@link JsonPropertyDescription}; required unless {@code Optional} or
 * {@code @Param(required = false)}). {@link JsonNode} and {@code Object} accept anything. Recursive types stop at the
 * second visit with a plain {@code {"type": "object"}}.
 */
public final class JsonSchemas {
    /** The mapper tools use to read arguments and write results. */
    static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new Jdk8Module());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private JsonSchemas() {}

    /** The schema of values of {@code type}. */
    public static ObjectNode of(Type type) {
        return schema(MAPPER.getTypeFactory().constructType(type), new HashSet<>());
    }

    /** Whether a parameter of this type may be left out. */
    static boolean isOptional(JavaType t) {
        Class<?> c = t.getRawClass();
        return c == Optional.class || c == OptionalInt.class || c == OptionalLong.class || c == OptionalDouble.class;
    }

    static ObjectNode schema(JavaType t, Set<Class<?>> visiting) {
        Class<?> c = t.getRawClass();
        ObjectNode s = F.objectNode();
        if (c == Optional.class) return schema(t.containedTypeOrUnknown(0), visiting);
        if (c == OptionalInt.class || c == OptionalLong.class) return s.put("type", "integer");
        if (c == OptionalDouble.class) return s.put("type", "number");
        if (c == String.class || c == char.class || c == Character.class || CharSequence.class.isAssignableFrom(c)
                || c == UUID.class || Temporal.class.isAssignableFrom(c)) {
            return s.put("type", "string");
        }
        if (c == boolean.class || c == Boolean.class) return s.put("type", "boolean");
        if (c == int.class || c == long.class || c == short.class || c == byte.class || c == Integer.class || c == Long.class
                || c == Short.class || c == Byte.class || c == BigInteger.class) {
            return s.put("type", "integer");
        }
        if (c == float.class || c == double.class || c == Float.class || c == Double.class || c == BigDecimal.class
                || (Number.class.isAssignableFrom(c))) {
            return s.put("type", "number");
        }
        if (c.isEnum()) {
            s.put("type", "string");
            ArrayNode values = s.putArray("enum");
            for (Object constant : c.getEnumConstants()) values.add(MAPPER.convertValue(constant, String.class));
            return s;
        }
        if (t.isArrayType() || t.isCollectionLikeType()) {
            s.put("type", "array");
            s.set("items", schema(t.getContentType(), visiting));
            return s;
        }
        if (t.isMapLikeType()) {
            s.put("type", "object");
            s.set("additionalProperties", schema(t.getContentType(), visiting));
            return s;
        }
        if (JsonNode.class.isAssignableFrom(c) || c == Object.class) return s;
        if (!visiting.add(c)) return s.put("type", "object");
        try {
            s.put("type", "object");
            ObjectNode props = s.putObject("properties");
            ArrayNode required = F.arrayNode();
            BeanDescription bd = MAPPER.getDeserializationConfig().introspect(t);
            for (BeanPropertyDefinition p : bd.findProperties()) {
                if (!p.couldDeserialize()) continue;
                JavaType pt = p.getPrimaryType();
                ObjectNode ps = schema(pt, visiting);
                Param param = annotation(c, p, Param.class);
                JsonPropertyDescription jd = annotation(c, p, JsonPropertyDescription.class);
                String desc = param != null && !param.value().isEmpty() ? param.value() : jd != null ? jd.value() : null;
                if (desc != null && !desc.isEmpty()) ps = withDescription(ps, desc);
                props.set(p.getName(), ps);
                boolean req = !isOptional(pt) && (param == null || param.required());
                if (req) required.add(p.getName());
            }
            if (!required.isEmpty()) s.set("required", required);
            s.put("additionalProperties", false);
            return s;
        } finally {
            visiting.remove(c);
        }
    }

    /** The schema with {@code description} first after the type (the order the model reads). */
    static ObjectNode withDescription(ObjectNode schema, String description) {
        ObjectNode out = F.objectNode();
        if (schema.has("type")) out.set("type", schema.get("type"));
        out.put("description", description);
        for (var e : schema.properties()) {
            if (!e.getKey().equals("type")) out.set(e.getKey(), e.getValue());
        }
        return out;
    }

    private static <A extends java.lang.annotation.Annotation> A annotation(Class<?> owner, BeanPropertyDefinition p, Class<A> type) {
        for (AnnotatedMember m : new AnnotatedMember[] {p.getField(), p.getGetter(), p.getSetter(), p.getConstructorParameter()}) {
            if (m == null) continue;
            A a = m.getAnnotation(type);
            if (a != null) return a;
        }
        if (owner.isRecord()) {
            for (RecordComponent rc : owner.getRecordComponents()) {
                if (rc.getName().equals(p.getInternalName()) || rc.getName().equals(p.getName())) {
                    A a = rc.getAnnotation(type);
                    if (a != null) return a;
                }
            }
        }
        return null;
    }
}
