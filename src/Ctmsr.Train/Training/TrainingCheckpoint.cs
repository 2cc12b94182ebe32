using System.Globalization;
using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Train.Training;

/// <summary>The scalar state of a run besides the tensors: where it stands and the dropout stream.</summary>
public sealed record TrainState(TrainStage Stage, int Iteration, int AdamStep, ulong DropoutSeed, ulong DropoutOffset, int TeacherIteration);

/// <summary>
/// A training checkpoint as one safetensors file (written atomically): params.model.* (training weights),
/// params_ema.model.* (EMA weights and buffers, the inference model), optim.m.* / optim.v.* (AdamW moments),
/// teacher.model.* (DTM only), and metadata with the iteration, AdamW step, dropout seed/offset and the model
/// configuration. The data order and the noise are pure functions of (seed, iteration), so nothing else is
/// needed to continue bit-exactly.
/// </summary>
public static class TrainingCheckpoint
{
    public const string Format = "ctmsr-train";
    public const string Params = "params.", ParamsEma = "params_ema.", Teacher = "teacher.", MomentM = "optim.m.", MomentV = "optim.v.";

    static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    static string U(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    public static void Save(string path, CtmsrNet net, AdamW opt, Ema ema, CtmsrNet? teacher, TrainState state)
    {
        var t = new Dictionary<string, TensorSource>(StringComparer.Ordinal);
        foreach (var (k, v) in ModelWeights.ExportSources(net)) t[Params + k] = v;
        foreach (var (k, v) in EmaSources(net, ema)) t[ParamsEma + k] = v;
        if (teacher is not null) foreach (var (k, v) in ModelWeights.ExportSources(teacher)) t[Teacher + k] = v;
        var names = net.NamedParameters().Select(p => p.name).ToList();
        if (names.Count != opt.State.Count) throw new InvalidOperationException("the optimiser does not hold the network's parameters");
        for (int i = 0; i < names.Count; i++)
        {
            var (p, m, v) = opt.State[i];
            t[MomentM + names[i]] = TensorSource.Of(m, p.Shape);
            t[MomentV + names[i]] = TensorSource.Of(v, p.Shape);
        }
        var meta = net.Config.ToMetadata();
        meta["format"] = Format;
        meta["stage"] = state.Stage.ToString().ToLowerInvariant();
        meta["iteration"] = I(state.Iteration);
        meta["adam_step"] = I(state.AdamStep);
        meta["dropout_seed"] = U(state.DropoutSeed);
        meta["dropout_offset"] = U(state.DropoutOffset);
        meta["teacher_iteration"] = I(state.TeacherIteration);
        SafetensorsFile.WriteSources(path, t, meta);
    }

    /// <summary>The EMA weights with the network's buffers, under official names ("model." prefix), each read from the
    /// backend when the streaming writer reaches it.</summary>
    static Dictionary<string, TensorSource> EmaSources(CtmsrNet net, Ema ema)
    {
        var r = ModelWeights.ExportSources(net).ToDictionary(StringComparer.Ordinal);
        var names = net.NamedParameters().Select(p => p.name).ToList();
        for (int i = 0; i < names.Count; i++)
        {
            var (p, e) = ema.Pairs[i];
            r[ModelWeights.Prefix + names[i]] = TensorSource.Of(e, p.Shape);
        }
        return r;
    }

    /// <summary>Writes the EMA model alone (official names, config in the metadata): what inference loads.</summary>
    public static void SaveEmaModel(string path, CtmsrNet net, Ema ema, int iteration)
    {
        var meta = net.Config.ToMetadata();
        meta["format"] = "ctmsr";
        meta["iteration"] = I(iteration);
        SafetensorsFile.WriteSources(path, EmaSources(net, ema), meta);
    }

    public static bool IsTrainingCheckpoint(string path)
    {
        if (!CheckpointFiles.IsSafetensors(path)) return false;
        using var f = SafetensorsFile.Open(path);
        return f.Metadata.TryGetValue("format", out var fm) && fm == Format;
    }

    public static CtmsrConfig ReadConfig(string path)
    {
        using var f = SafetensorsFile.Open(path);
        return CtmsrConfig.FromMetadata(f.Metadata);
    }

    public static TrainState ReadState(string path)
    {
        using var f = SafetensorsFile.Open(path);
        return ReadState(f);
    }

    static TrainState ReadState(SafetensorsFile f)
    {
        var m = f.Metadata;
        string Need(string k) => m.TryGetValue(k, out var v) ? v
            : throw new InvalidDataException($"{f.Path}: metadata '{k}' is missing; this is not a Ctmsr training checkpoint (format {Format})");
        if (Need("format") != Format)
            throw new InvalidDataException($"{f.Path}: format '{m["format"]}' is not a training checkpoint ({Format}); pass a run directory or a checkpoints/ckpt_*.safetensors file");
        var stage = Enum.Parse<TrainStage>(Need("stage"), ignoreCase: true);
        return new TrainState(stage, int.Parse(Need("iteration"), CultureInfo.InvariantCulture), int.Parse(Need("adam_step"), CultureInfo.InvariantCulture),
            ulong.Parse(Need("dropout_seed"), CultureInfo.InvariantCulture), ulong.Parse(Need("dropout_offset"), CultureInfo.InvariantCulture),
            int.Parse(m.GetValueOrDefault("teacher_iteration", "0"), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Restores a checkpoint into the given objects (each optional): training weights, EMA, AdamW moments and step,
    /// teacher, and the network's dropout stream. Shapes and names must match (the configuration must be the same).
    /// </summary>
    public static TrainState Load(string path, CtmsrNet net, AdamW? opt, Ema? ema, CtmsrNet? teacher, bool restoreDropout = true)
    {
        using var f = SafetensorsFile.Open(path);
        var state = ReadState(f);
        var cfg = CtmsrConfig.FromMetadata(f.Metadata);
        if (!SameConfig(cfg, net.Config))
            throw new InvalidDataException($"{path} was trained with model ({cfg}) but this run builds ({net.Config}); use the same --config");
        ModelWeights.Load(net, f.ReadAll(Params));
        var names = net.NamedParameters().Select(p => p.name).ToList();
        if (ema is not null)
        {
            var e = f.ReadAll(ParamsEma);
            for (int i = 0; i < names.Count; i++) ema.Pairs[i].e.CopyFrom(Floats(e, ModelWeights.Prefix + names[i], path));
        }
        if (opt is not null)
        {
            var mm = f.ReadAll(MomentM); var vv = f.ReadAll(MomentV);
            if (mm.Count == 0) throw new InvalidDataException($"{path} holds no optimiser state (optim.m.*); it cannot be resumed exactly");
            for (int i = 0; i < names.Count; i++)
            {
                opt.State[i].m.CopyFrom(Floats(mm, names[i], path));
                opt.State[i].v.CopyFrom(Floats(vv, names[i], path));
            }
            opt.Step = state.AdamStep;
        }
        if (teacher is not null)
        {
            var t = f.ReadAll(Teacher);
            ModelWeights.Load(teacher, t.Count > 0 ? t : f.ReadAll(Params));
        }
        if (restoreDropout)
        {
            net.Dropout.Seed = state.DropoutSeed;
            net.Dropout.Offset = state.DropoutOffset;
        }
        return state;
    }

    static float[] Floats(Dictionary<string, HostTensor> d, string name, string path) =>
        d.TryGetValue(name, out var t) ? t.ToFloats()
            : throw new InvalidDataException($"{path}: tensor '{name}' is missing; the checkpoint is incomplete or from another model configuration");

    public static bool SameConfig(CtmsrConfig a, CtmsrConfig b) =>
        a.ToMetadata().OrderBy(kv => kv.Key).SequenceEqual(b.ToMetadata().OrderBy(kv => kv.Key));
}
