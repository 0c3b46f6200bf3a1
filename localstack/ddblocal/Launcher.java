// Launcher starts DynamoDB Local bound to one host (127.0.0.1 unless the
// system property deskline.host says otherwise).
//
// DynamoDB Local's own main (ServerRunner) builds a Jetty server from a bare
// port, so it listens on every interface, and it has no flag to change that.
// This launcher lets DynamoDB Local parse its usual command line, then reaches
// into the DynamoDBProxyServer for its private Jetty Server, sets the host of
// every ServerConnector before the server starts, and starts it with
// safeStart, which throws on a bind failure instead of logging and carrying on.
// It also skips ServerRunner's telemetry set-up.
//
// It is compiled by the Go package github.com/deskline/deskline/localstack/ddblocal.

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class Launcher {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("deskline.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);

        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server server = (Server) f.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            System.err.println("launcher: DynamoDB Local's Jetty server has no connectors");
            System.exit(2);
        }
        for (Connector c : connectors) {
            if (!(c instanceof ServerConnector)) {
                System.err.println("launcher: unexpected Jetty connector " + c.getClass().getName());
                System.exit(2);
            }
            ((ServerConnector) c).setHost(host);
        }

        try {
            proxy.safeStart();
        } catch (Throwable t) {
            System.err.println("launcher: could not start DynamoDB Local: " + t);
            System.exit(1);
        }
        for (Connector c : connectors) {
            ServerConnector sc = (ServerConnector) c;
            System.err.println("launcher: DynamoDB Local listening on " + sc.getHost() + ":" + sc.getLocalPort());
        }
        proxy.join();
    }
}
