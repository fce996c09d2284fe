package io.compactml.common.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
    @Test
    void parsesChainsAndNormalizesNames() {
        List<Plan.Candidate> plan = Plan.parse(
                List.of(
                        "int8:entropy",
                        " Prune:magnitude:0.90 > int8:mse",
                        "distill>prune:taylor:0.5>int8:percentile",
                        "distill"),
                "pipeline.candidates");
        assertEquals(
                List.of(
                        "int8:entropy",
                        "prune:magnitude:0.9>int8:mse",
                        "distill>prune:taylor:0.5>int8:percentile",
                        "distill"),
                plan.stream().map(Plan.Candidate::name).toList());
        Plan.Candidate chain = plan.get(2);
        assertEquals(
                List.of(Plan.Kind.DISTILL, Plan.Kind.PRUNE, Plan.Kind.INT8),
                chain.steps().stream().map(Plan.Step::kind).toList());
        assertEquals("taylor", chain.steps().get(1).method());
        assertEquals(0.5, chain.steps().get(1).sparsity());
        assertEquals("distill.prune-taylor-0.5.int8-percentile", chain.slug());
        assertTrue(chain.slug().matches("[A-Za-z0-9._-]+"), "a valid run id part");
    }

    @Test
    void lowBitAndQatStepsCarryTheirWeightBits() {
        List<Plan.Candidate> plan = Plan.parse(
                List.of(
                        "int4:mse",
                        "INT2:entropy",
                        "binary",
                        "binary:minmax",
                        "qat:4",
                        "distill>qat:2",
                        "distill>int4:percentile"),
                "pipeline.candidates",
                io.compactml.common.quant.CalibrationMethod.ENTROPY);
        assertEquals(
                List.of(
                        "int4:mse",
                        "int2:entropy",
                        "binary:entropy",
                        "binary:minmax",
                        "qat:4",
                        "distill>qat:2",
                        "distill>int4:percentile"),
                plan.stream().map(Plan.Candidate::name).toList());
        assertEquals(
                List.of(4, 2, 1, 1, 4, 2, 4),
                plan.stream().map(c -> c.last().bits()).toList());
        assertEquals(Plan.Kind.QAT, plan.get(4).last().kind());
        assertEquals("entropy", plan.get(4).last().method());
        assertEquals(io.compactml.common.artifact.ModelKind.INT8, plan.get(5).kind());
        assertEquals("qat-4", plan.get(4).slug());
    }

    @Test
    void refusesWhatCannotRun() {
        for (String bad : List.of(
                "int8:entropy>prune:magnitude:0.5",
                "prune:magnitude:0.5>distill",
                "prune:magnitude:0.5>prune:magnitude:0.9",
                "prune:magnitude:1.0",
                "prune:random:0.5",
                // a plan's prune steps are unstructured, and entropy scores whole channels
                "prune:entropy:0.5",
                "int8",
                "int8:kl",
                "quantize:entropy",
                "int3:mse",
                "int4",
                "qat",
                "qat:3",
                "qat:4>int8:mse",
                // the sparse format stores 8-bit values; qat would train the zeros away
                "prune:magnitude:0.5>int4:mse",
                "prune:magnitude:0.5>qat:4",
                "")) {
            CompactMLException e =
                    assertThrows(CompactMLException.class, () -> Plan.parse(List.of(bad), "pipeline.candidates"), bad);
            assertTrue(e.getMessage().contains("pipeline.candidates"), e.getMessage());
        }
        CompactMLException entropy = assertThrows(
                CompactMLException.class, () -> Plan.parse(List.of("prune:entropy:0.5"), "pipeline.candidates"));
        assertTrue(entropy.getMessage().contains("prune:<magnitude|taylor|fisher>"), entropy.getMessage());
        assertThrows(CompactMLException.class, () -> Plan.parse(List.of("int8:mse", "int8:mse"), "k"));
        assertThrows(CompactMLException.class, () -> Plan.parse(List.of(), "k"));
    }
}
