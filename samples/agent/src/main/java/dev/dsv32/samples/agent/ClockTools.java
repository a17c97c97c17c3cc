package dev.dsv32.samples.agent;

import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.Optional;

/** The date and time, which the model cannot know. */
public final class ClockTools {
    private final Clock clock;

    public ClockTools(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Tool("The current date and time (ISO 8601, with the day of the week) in a time zone")
    public String now(@Param(value = "an IANA time zone such as Europe/Paris; default UTC", required = false) Optional<String> zone) {
        ZoneId z;
        try {
            z = ZoneId.of(zone.filter(s -> !s.isBlank()).orElse("UTC"));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("unknown time zone \"" + zone.orElse("") + "\" (use an IANA name such as Asia/Shanghai)");
        }
        ZonedDateTime t = ZonedDateTime.now(clock.withZone(z));
        return t.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " (" + t.getDayOfWeek() + ", " + z + ")";
    }
}
