namespace TaskTempest.Tests.Shared;

/// <summary>
/// One checked-in snapshot, compared the way Verify does it (Verify is not served here): a mismatch writes
/// the received text beside the verified file and fails; TASKTEMPEST_UPDATE_SNAPSHOTS=1 accepts the new text
/// on purpose. Linked into both test projects.
/// </summary>
internal static class SnapshotFile
{
    public static void Check(string verifiedPath, string receivedPath, string actual, string what)
    {
        if (Environment.GetEnvironmentVariable("TASKTEMPEST_UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }
        string? verified = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath) : null;
        if (verified == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        Xunit.Assert.Fail(verified is null
            ? $"No snapshot of {what} yet: review {receivedPath} and rerun with TASKTEMPEST_UPDATE_SNAPSHOTS=1 to accept it."
            : $"{what} changed: compare {receivedPath} with {verifiedPath}; rerun with TASKTEMPEST_UPDATE_SNAPSHOTS=1 to accept.");
    }
}
