package dev.dsv32.tools;

import dev.dsv32.tools.BenchReportCommand.BatchRow;
import dev.dsv32.tools.BenchReportCommand.DecodeRow;
import dev.dsv32.tools.BenchReportCommand.PrefillRow;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler.LegendPosition;

/** The PNG charts of {@code dsv32 bench report} (XChart, rendered headless). */
final class ReportCharts {
    static final String DECODE_VS_CONTEXT = "decode-vs-context.png";
    static final String BATCH_SCALING = "batch-scaling.png";
    static final String ROOFLINE = "roofline-fraction.png";
    static final String PREFILL = "prefill-gflops.png";
    static final List<String> FILES = List.of(DECODE_VS_CONTEXT, BATCH_SCALING, ROOFLINE, PREFILL);

    private static final int W = 900, H = 520;
    private final Path dir;
    private final String model;

    ReportCharts(Path dir, String model) {
        this.dir = dir;
        this.model = model;
    }

    /** Decode tokens/s against context, sparse (DSA) and dense attention, log2 x axis, top-k marked. */
    void decodeVsContext(List<DecodeRow> sparse, List<DecodeRow> dense, int topk) throws IOException {
        XYChart c = xy("Decode tokens/s vs context, batch 1 (" + model + ")", "context (tokens, log scale)", "tokens/s");
        c.getStyler().setXAxisLogarithmic(true);
        c.addSeries("DSA (indexer top-" + topk + ")", ctx(sparse), tps(sparse));
        c.addSeries("dense attention (every key)", ctx(dense), tps(dense));
        c.addSeries("roofline DSA", ctx(sparse), sparse.stream().mapToDouble(DecodeRow::rooflineTps).toArray());
        c.addSeries("roofline dense", ctx(dense), dense.stream().mapToDouble(DecodeRow::rooflineTps).toArray());
        c.getStyler().setYAxisLogarithmic(true);
        c.addAnnotation(new AnnotationLine(topk, true, false));
        save(c, DECODE_VS_CONTEXT);
    }

    void batchScaling(List<BatchRow> rows, int ctx) throws IOException {
        XYChart c = xy("Aggregate decode tokens/s vs batch, context " + ctx + " (" + model + ")", "batch (sequences)", "tokens/s");
        double[] b = rows.stream().mapToDouble(BatchRow::batch).toArray();
        c.addSeries("measured", b, rows.stream().mapToDouble(BatchRow::tps).toArray());
        double t1 = rows.get(0).tps() / rows.get(0).batch();
        c.addSeries("linear (batch x batch-1 rate)", b, rows.stream().mapToDouble(r -> r.batch() * t1).toArray());
        c.addSeries("bandwidth roofline", b, rows.stream().mapToDouble(BatchRow::rooflineTps).toArray());
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        save(c, BATCH_SCALING);
    }

    /** Fraction of the bandwidth roofline, per decode cell, in percent. */
    void roofline(List<DecodeRow> sparse, List<DecodeRow> dense, List<BatchRow> batches) throws IOException {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H)
                .title("Decode: % of the bandwidth roofline (" + model + ")").xAxisTitle("cell").yAxisTitle("% of roofline").build();
        c.getStyler().setLegendPosition(LegendPosition.InsideNW);
        List<String> names = new ArrayList<>();
        List<Double> sp = new ArrayList<>(), de = new ArrayList<>();
        for (int i = 0; i < sparse.size(); i++) {
            names.add("ctx " + sparse.get(i).ctx());
            sp.add(100 * sparse.get(i).ofRoofline());
            de.add(100 * dense.get(i).ofRoofline());
        }
        for (BatchRow b : batches) {
            names.add("batch " + b.batch());
            sp.add(100 * b.ofRoofline());
            de.add(0.0);
        }
        c.addSeries("DSA", names, sp);
        c.addSeries("dense attention", names, de);
        c.getStyler().setXAxisLabelRotation(45);
        save(c, ROOFLINE);
    }

    void prefill(List<PrefillRow> rows, double peak) throws IOException {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H)
                .title("Prefill GFLOP/s vs measured FMA peak " + Math.round(peak) + " GFLOP/s (" + model + ")")
                .xAxisTitle("prompt tokens").yAxisTitle("GFLOP/s").build();
        List<String> names = new ArrayList<>();
        List<Double> g = new ArrayList<>(), p = new ArrayList<>();
        for (PrefillRow r : rows) {
            names.add(Integer.toString(r.tokens()));
            g.add(r.gflops());
            p.add(peak);
        }
        c.addSeries("prefill", names, g);
        c.addSeries("FMA peak", names, p);
        save(c, PREFILL);
    }

    private static XYChart xy(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(W).height(H).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendPosition(LegendPosition.OutsideS);
        c.getStyler().setMarkerSize(7);
        return c;
    }

    private static double[] ctx(List<DecodeRow> rows) {
        return rows.stream().mapToDouble(DecodeRow::ctx).toArray();
    }

    private static double[] tps(List<DecodeRow> rows) {
        return rows.stream().mapToDouble(DecodeRow::tps).toArray();
    }

    private void save(Chart<?, ?> c, String file) throws IOException {
        BitmapEncoder.saveBitmap(c, dir.resolve(file).toString(), BitmapFormat.PNG);
    }
}
