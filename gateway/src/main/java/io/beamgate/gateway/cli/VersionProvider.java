package io.beamgate.gateway.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest, with the Java runtime it runs on. */
public final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return new String[] {
      "beamgate " + (v != null ? v : "(development build)"),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
          + ")"
    };
  }
}
