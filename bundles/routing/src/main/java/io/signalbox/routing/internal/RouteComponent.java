package io.signalbox.routing.internal;

import java.util.Map;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;

/**
 * One route configuration ({@code etc/io.signalbox.route-<name>.cfg}), registered as a service
 * for the {@link RoutingEngine}; it holds the {@link RouteDefinition} in force for that file.
 *
 * <p>A configuration is validated as a whole before it takes effect: unknown keys (with
 * did-you-mean), values of the wrong type, a bad glob, an unknown message type, no backends.
 * An invalid first configuration is logged at ERROR ({@code configuration <pid> (<file>)
 * rejected: <reason>}) and nothing is applied (the engine ignores a component without a route,
 * and it does not count as configured); an invalid modification is logged the same way with
 * {@code ; the previous configuration stays in force} and the route in force does not change.
 * The component is kept rather than failed so that SCR does not add a stack trace to a typo,
 * and so that a corrected file is applied through {@link Modified}.
 */
@Component(service = RouteComponent.class, configurationPid = RouteComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RouteComponent.Config.class, factory = true)
public final class RouteComponent {
    /** Factory PID of route configurations. */
    public static final String FACTORY_PID = "io.signalbox.route";

    private static final Logger LOG = LoggerFactory.getLogger(RouteComponent.class);

    @ObjectClassDefinition(name = "Signalbox route",
            description = "Sends the messages of matching sources to named backends.")
    public @interface Config {
        @AttributeDefinition(description = "Exact source name, glob with * and ? (queue-*), or default "
                + "(sources no other route takes). Ignored for global routes.", required = false)
        String source() default "";

        @AttributeDefinition(description = "Backend instance names (the -<name> part of their config file).")
        String[] backends() default {};

        @AttributeDefinition(description = "Only these message types (event, metric, progress, resource, span, "
                + "heartbeat, hello, goodbye); empty = all.", required = false)
        String[] types() default {};

        @AttributeDefinition(description = "A disabled route is ignored.", required = false)
        boolean enabled() default true;

        @AttributeDefinition(description = "Higher priority routes are applied first.", required = false)
        int priority() default 0;

        @AttributeDefinition(description = "Applies to every source, in addition to its other routes.", required = false)
        boolean global() default false;

        @AttributeDefinition(description = "Route name; default: the -<name> part of the config file.", required = false)
        String name() default "";
    }

    private volatile RouteDefinition route;
    private volatile String rejection;
    private volatile Consumer<RouteComponent> listener;

    @Activate
    public RouteComponent(Config config, Map<String, Object> properties) {
        try {
            this.route = parse(config, properties);
            LOG.info("route {} configured: {}", route.name(), route);
        } catch (IllegalArgumentException e) {
            this.rejection = e.getMessage();
            LOG.error("{}", ConfigCheck.rejection(FACTORY_PID, properties, e.getMessage()));
        }
    }

    /** Applies a changed configuration if it is valid; otherwise the route in force stays. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        RouteDefinition next;
        try {
            next = parse(config, properties);
        } catch (IllegalArgumentException e) {
            rejection = e.getMessage();
            RouteDefinition current = route;
            LOG.error("{}{}", ConfigCheck.rejection(FACTORY_PID, properties, e.getMessage()),
                    current != null ? "; the previous configuration stays in force (route " + current.name() + ": "
                            + current + ")" : "; the route stays unconfigured");
            return;
        }
        route = next;
        rejection = null;
        LOG.info("route {} reconfigured: {}", next.name(), next);
        Consumer<RouteComponent> l = listener;
        if (l != null) {
            l.accept(this);
        }
    }

    private static RouteDefinition parse(Config config, Map<String, ?> properties) {
        String problem = ConfigCheck.keysAndTypes(Config.class, config, properties);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return RouteDefinition.parse(config, properties);
    }

    /** The route in force, or {@code null} if no valid configuration was ever given. */
    RouteDefinition route() {
        return route;
    }

    /** Why the last configuration given was rejected, or {@code null} if it was applied. */
    String rejection() {
        return rejection;
    }

    /** The engine's callback for a change of the route in force (one listener). */
    void listen(Consumer<RouteComponent> l) {
        this.listener = l;
    }
}
