package io.signalbox.alerting.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.signalbox.api.IngestListener;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.store.MetricStore;
import io.signalbox.metrics.store.MetricStore.LabeledSample;

/**
 * The {@link IngestListener} correlation calls for every accepted message: a component of its own, without a
 * reference to {@code Ingest}, because alerting (which offers its events to {@code Ingest}) would otherwise form
 * a service cycle with correlation, and Felix SCR then fails to bind one side ("Could not get service from ref")
 * depending on the start order. It labels metric samples as the store will and hands them to the attached
 * {@link Sink} (alerting), on the offering thread.
 */
@Component(service = { IngestListener.class, SampleTap.class })
public final class SampleTap implements IngestListener {
    /** Where samples go; called on transport threads, must not block. */
    interface Sink {
        /** Whether any rule is loaded (else samples are not even parsed). */
        boolean wantsSamples();

        void sample(LabeledSample sample, long arrivalNanos);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile MetricStore store;
    private volatile Sink sink;

    void attach(Sink s) {
        this.sink = s;
    }

    @Override
    public void offered(Message m) {
        if (m.type() != MessageType.METRIC) {
            return;
        }
        Sink s = sink;
        MetricStore st = store;
        if (s == null || st == null || !s.wantsSamples()) {
            return;
        }
        LabeledSample sample = st.sampleOf(m);
        if (sample != null) {
            s.sample(sample, System.nanoTime());
        }
    }
}
