package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.encoding.Message;
import dev.dsv32.nativ.Numerics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 64 threads x 4 requests on tiny_chat, batched by the scheduler: all complete, nothing leaks, and batching does not
 * change the answers (f32, greedy: the same tokens as each request run alone, logits within the golden bounds).
 */
class ConcurrencyTest {
    static final int THREADS = 64;
    static final int PER_THREAD = 4;
    static final int PROMPTS = 16;
    static final int MAX_TOKENS = 8;

    /** Per step of one request: whether its top-1 matched the reference, and the KL to it. */
    static final class Check implements LogitsListener {
        final Reference ref;
        final boolean[] top1 = new boolean[MAX_TOKENS];
        final double[] kl = new double[MAX_TOKENS];
        int steps;

        Check(Reference ref) {
            this.ref = ref;
        }

        @Override
        public void onLogits(int step, float[] logits, int offset, int vocab) {
            float[] row = new float[vocab];
            System.arraycopy(logits, offset, row, 0, vocab);
            top1[step] = ref.top1[step] == Logits.argmax(row);
            kl[step] = Logits.kl(ref.logp.get(step), row);
            steps = step + 1;
        }
    }

    /** A request run alone: its tokens, and per step the top-1 and log-probabilities. */
    static final class Reference {
        final int[] tokens;
        final int[] top1;
        final List<double[]> logp = new ArrayList<>();

        Reference(int[] tokens, Logits.Capture rows) {
            this.tokens = tokens;
            this.top1 = new int[rows.rows.size()];
            for (int i = 0; i < top1.length; i++) {
                top1[i] = Logits.argmax(rows.rows.get(i));
                logp.add(Logits.logSoftmax(rows.rows.get(i)));
            }
        }
    }

    record Outcome(int prompt, GenerateResult result, Check check) {}

    static GenerateRequest request(int prompt, LogitsListener l) {
        return GenerateRequest.builder().messages(Message.user(prompt + "?"))
                .thinking(prompt % 2 == 0).greedy().maxTokens(MAX_TOKENS).logitsListener(l).build();
    }

    @Test
    void concurrentRequestsAreBatchedAndGiveTheSameAnswersAsAlone() throws Exception {
        try (Model model = Model.builder().tinyChat().numerics(Numerics.F32).maxContext(256).maxSequences(16).build()) {
            // References: each prompt alone.
            List<Reference> refs = new ArrayList<>();
            for (int p = 0; p < PROMPTS; p++) {
                Logits.Capture c = new Logits.Capture();
                refs.add(new Reference(model.generate(request(p, c)).tokenIds(), c));
            }
            long stepsBefore = model.metrics().steps();

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<List<Outcome>>> futures = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    List<Outcome> out = new ArrayList<>();
                    for (int i = 0; i < PER_THREAD; i++) {
                        int p = (thread * PER_THREAD + i) % PROMPTS;
                        Check check = new Check(refs.get(p));
                        out.add(new Outcome(p, model.generate(request(p, check)), check));
                    }
                    return out;
                }));
            }
            List<Outcome> all = new ArrayList<>();
            for (Future<List<Outcome>> f : futures) all.addAll(f.get(10, TimeUnit.MINUTES));
            long wallMs = (System.nanoTime() - t0) / 1_000_000;
            pool.shutdown();

            assertEquals(THREADS * PER_THREAD, all.size(), "every request completed");
            long tokens = 0;
            long equal = 0;
            for (Outcome o : all) {
                int[] got = o.result().tokenIds();
                int[] want = refs.get(o.prompt()).tokens;
                assertEquals(want.length, got.length, "request for prompt " + o.prompt());
                int same = 0;
                int prefix = 0;
                while (prefix < got.length && got[prefix] == want[prefix]) prefix++;
                for (int i = 0; i < got.length; i++) if (got[i] == want[i]) same++;
                tokens += got.length;
                equal += same;
                assertTrue(same >= 0.99 * got.length, "prompt " + o.prompt() + ": " + same + " of " + got.length + " tokens equal");
                // Logits: compare the steps whose context is identical (all of them when the tokens agree).
                int n = Math.min(o.check().steps, prefix + 1);
                int agree = 0;
                double kl = 0;
                for (int s = 0; s < n; s++) {
                    if (o.check().top1[s]) agree++;
                    kl += o.check().kl[s];
                }
                assertTrue(agree >= 0.99 * n && kl / n <= 1e-3,
                        "prompt " + o.prompt() + ": top-1 " + agree + "/" + n + ", mean KL " + kl / n);
            }
            assertTrue(equal >= 0.99 * tokens);

            Metrics m = model.metrics();
            long steps = m.steps() - stepsBefore;
            // Alone, each request needs 1 prefill step + MAX_TOKENS - 1 decode steps; batched, far fewer in total.
            long unbatched = (long) all.size() * MAX_TOKENS;
            assertTrue(steps < unbatched / 4, "requests shared steps: " + steps + " steps for " + all.size() + " requests");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (model.metrics().openSequences() > 0 && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(0, model.metrics().openSequences(), "no leaked sequences");
            assertEquals(0, model.metrics().queueLength());
            model.metrics().cache().ifPresent(c -> assertEquals(c.totalBlocks(), c.freeBlocks(), "no leaked KV blocks"));
            org.slf4j.LoggerFactory.getLogger(ConcurrencyTest.class).warn(
                    "{} requests from {} threads in {} ms, {} steps ({} tokens equal of {}), {}", all.size(), THREADS, wallMs, steps, equal, tokens, m);
        }
    }
}
