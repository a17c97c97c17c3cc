package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SamplingOptions: defaults, builder, validation messages naming the field. Pure Java. */
class SamplingOptionsTest {
    @Test
    void defaultsAreTheModelCards() {
        SamplingOptions d = SamplingOptions.defaults();
        assertEquals(1.0, d.temperature());
        assertEquals(0.95, d.topP());
        assertEquals(0, d.topK());
        assertEquals(0L, d.seed());
        assertFalse(d.isGreedy());
        assertEquals(d, SamplingOptions.builder().build());
    }

    @Test
    void greedyIsTemperatureZero() {
        SamplingOptions g = SamplingOptions.greedy();
        assertTrue(g.isGreedy());
        assertEquals(0.0, g.temperature());
        assertEquals(1.0, g.topP());
        assertEquals(0, g.topK());
    }

    @Test
    void builderSetsEveryField() {
        SamplingOptions o = SamplingOptions.builder().temperature(0.6).topP(0.9).topK(40).seed(-7L).build();
        assertEquals(new SamplingOptions(0.6, 0.9, 40, -7L), o);
        assertEquals(o, o.toBuilder().build());
        assertEquals(new SamplingOptions(0.6, 1.0, 40, -7L), o.toBuilder().topP(1.0).build());
        assertEquals(o, o.newSampler().options());
        assertEquals(-7L, o.newSampler().state());
    }

    @Test
    void invalidValuesAreRejectedNamingTheField() {
        for (double t : new double[] {-1.0, -0.0001, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SamplingOptions.builder().temperature(t).build());
            assertTrue(e.getMessage().startsWith("temperature"), e.getMessage());
        }
        for (double p : new double[] {0.0, -0.5, 1.0000001, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(1.0, p, 0, 0));
            assertTrue(e.getMessage().startsWith("topP"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplingOptions.builder().topK(-1).build());
        assertTrue(e.getMessage().startsWith("topK"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new Sampler(null));
    }
}
