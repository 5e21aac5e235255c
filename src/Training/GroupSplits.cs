namespace ArtGrid.Training;

/// <summary>
/// Splits that keep every group (a source: one repository or package) on one side, so that validation measures
/// how the model does on sources it has never seen.
/// </summary>
public static class GroupSplits
{
    /// <summary>
    /// Holds out whole groups until each class has about <paramref name="fraction"/> of its images held out, so that
    /// both classes are present on both sides. Groups are visited in a seeded random order.
    /// </summary>
    public static bool[] HoldOutGroups(IReadOnlyList<string> groups, IReadOnlyList<bool> isAi, double fraction, int seed)
    {
        var rng = new Random(seed);
        var holdout = new bool[groups.Count];
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (bool cls in new[] { true, false })
        {
            int classTotal = isAi.Count(a => a == cls);
            double target = fraction * classTotal;
            string[] classGroups = Enumerable.Range(0, groups.Count).Where(i => isAi[i] == cls).Select(i => groups[i]).Distinct().Order(StringComparer.Ordinal).ToArray();
            rng.Shuffle(classGroups);
            int held = 0;
            foreach (string group in classGroups)
            {
                if (held >= target)
                {
                    break;
                }

                int size = Enumerable.Range(0, groups.Count).Count(i => isAi[i] == cls && groups[i] == group);
                // Skip a group that alone would overshoot the target by half again, unless nothing is held out yet
                // and it is the last candidate.
                if (held + size > 1.5 * target && held > 0)
                {
                    continue;
                }

                chosen.Add(group);
                held += size;
            }
        }

        for (int i = 0; i < groups.Count; i++)
        {
            holdout[i] = chosen.Contains(groups[i]);
        }

        return holdout;
    }

    /// <summary>Stratified random holdout, for sets without a group column.</summary>
    public static bool[] HoldOutStratified(IReadOnlyList<bool> isAi, double fraction, int seed)
    {
        var holdout = new bool[isAi.Count];
        foreach (int[] members in ShuffledByClass(isAi, seed))
        {
            foreach (int i in members.Take((int)Math.Round(fraction * members.Length)))
            {
                holdout[i] = true;
            }
        }

        return holdout;
    }

    /// <summary>Assigns whole groups to k folds, largest first, each to the fold with fewest images so far.</summary>
    public static int[] GroupKFold(IReadOnlyList<string> groups, int k)
    {
        var sizes = groups.GroupBy(g => g, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
        var load = new int[k];
        var foldOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (IGrouping<string, string> group in sizes)
        {
            int fold = Array.IndexOf(load, load.Min());
            foldOf[group.Key] = fold;
            load[fold] += group.Count();
        }

        return groups.Select(g => foldOf[g]).ToArray();
    }

    /// <summary>
    /// Random k folds with each class spread evenly, ignoring groups: the split the model card contrasts with the
    /// grouped ones, never the one a model is chosen by.
    /// </summary>
    public static int[] StratifiedKFold(IReadOnlyList<bool> isAi, int k, int seed)
    {
        var folds = new int[isAi.Count];
        foreach (int[] members in ShuffledByClass(isAi, seed))
        {
            for (int j = 0; j < members.Length; j++)
            {
                folds[members[j]] = j % k;
            }
        }

        return folds;
    }

    /// <summary>The indexes of the human images, then of the AI ones, each shuffled by one seeded generator.</summary>
    private static IEnumerable<int[]> ShuffledByClass(IReadOnlyList<bool> isAi, int seed)
    {
        var rng = new Random(seed);
        foreach (bool cls in new[] { false, true })
        {
            int[] members = Enumerable.Range(0, isAi.Count).Where(i => isAi[i] == cls).ToArray();
            rng.Shuffle(members);
            yield return members;
        }
    }
}
