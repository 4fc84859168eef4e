package io.signalbox.http.internal;

import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.signalbox.api.Ingest;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;

/**
 * The services of the sidecar that {@code /metrics}, {@code /health} and the {@code /api}
 * endpoints report on, bound once for all of them: each optional and followed as it comes and goes
 * (dynamic, greedy), so an endpoint can say that one is missing instead of going away with it.
 * Read a field once per request: it may change between two reads.
 */
@Component(name = SidecarServices.NAME, service = SidecarServices.class)
public final class SidecarServices {
    /** Component name (stable; no configuration). */
    public static final String NAME = "io.signalbox.http.services";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Router router;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Ingest ingest;
    /** Every {@link StatsSource} with its service properties (see {@link StatsSources}). */
    @Reference(service = StatsSource.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile List<Map.Entry<Map<String, ?>, StatsSource>> statsSources = List.of();
}
