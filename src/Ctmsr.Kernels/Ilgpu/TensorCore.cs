using System.Reflection;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;
using PrimitiveRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.PrimitiveRegister;
using CompoundRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.CompoundRegister;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>One mma.sync accumulator fragment: a lane's four float32 outputs of a 16 x 8 tile, c0..c3 at
/// (g, 2t), (g, 2t + 1), (g + 8, 2t), (g + 8, 2t + 1) with g = lane / 4, t = lane % 4 (PTX ISA, "mma.m16n8k*" C/D layout).</summary>
public struct Frag4
{
    public float C0, C1, C2, C3;
}

/// <summary>
/// Tensor-core instructions for the ILGPU kernels, PTX only (sm_80 and newer): warp-wide
/// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 and m16n8k16.row.col.f32.bf16.bf16.f32, and the operand conversions
/// cvt.rna.tf32.f32 and cvt.rn.bf16x2.f32.
/// Why custom intrinsics and not <c>CudaAsm.EmitRef</c>: ILGPU 1.5.3 passes every CudaAsm operand through its own
/// .local slot (st.local before the asm, ld.local after: 14 local round trips per mma, seen in the PTX), which would leave
/// the fragments in local memory unless ptxas promotes them. These intrinsics are emitted straight into registers
/// (a struct result is a compound register), the way <see cref="KernelMath.Fma"/> is. The managed bodies are never run
/// (the kernels that call them are loaded on CUDA only; the OpenCL backend has no implementation of them).
/// </summary>
public static class TensorCore
{
    /// <summary>d = A B + c for a 16 x 8 x 8 TF32 tile: A row-major fragment a0..a3 = A[g][t], A[g + 8][t], A[g][t + 4],
    /// A[g + 8][t + 4]; B column fragment b0, b1 = B[t][g], B[t + 4][g]; operands already TF32 (<see cref="ToTf32"/>).</summary>
    [IntrinsicImplementation]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 MmaTf32(Frag4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) => c;

    /// <summary>d = A B + c for a 16 x 8 x 16 bfloat16 tile: a0..a3 pack (low half first) A[g][2t..2t+1], A[g + 8][2t..2t+1],
    /// A[g][2t+8..2t+9], A[g + 8][2t+8..2t+9]; b0, b1 pack B[2t..2t+1][g], B[2t+8..2t+9][g] (<see cref="PackBf16"/>).</summary>
    [IntrinsicImplementation]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 MmaBf16(Frag4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) => c;

    /// <summary>x as a TF32 register (cvt.rna.tf32.f32: nearest, ties away; <see cref="Precision.RoundTf32"/> on the host).</summary>
    [IntrinsicImplementation]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ToTf32(float x) => BitConverter.SingleToUInt32Bits(Precision.RoundTf32(x));

    /// <summary>lo and hi as bfloat16, packed lo in bits 0..15 and hi in 16..31 (cvt.rn.bf16x2.f32 d, hi, lo: nearest even;
    /// <see cref="Precision.RoundBf16"/> on the host).</summary>
    [IntrinsicImplementation]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PackBf16(float lo, float hi) =>
        (BitConverter.SingleToUInt32Bits(Precision.RoundBf16(lo)) >> 16) | (BitConverter.SingleToUInt32Bits(Precision.RoundBf16(hi)) & 0xFFFF_0000u);

    static void Mma(PTXCodeGenerator g, Value value, string instruction)
    {
        var c = (CompoundRegister)g.Load(value[0]);
        var a = new PrimitiveRegister[4];
        for (int i = 0; i < 4; i++) a[i] = g.LoadPrimitive(value[1 + i]);
        var b = new[] { g.LoadPrimitive(value[5]), g.LoadPrimitive(value[6]) };
        var d = (CompoundRegister)g.Allocate(value);
        var dr = new PrimitiveRegister[4];
        var cr = new PrimitiveRegister[4];
        for (int i = 0; i < 4; i++)
        {
            dr[i] = (PrimitiveRegister)d.Children[i];
            cr[i] = (PrimitiveRegister)c.Children[i];
        }
        using var command = g.BeginCommand(instruction);
        command.AppendVectorArgument(dr);
        command.AppendVectorArgument(a);
        command.AppendVectorArgument(b);
        command.AppendVectorArgument(cr);
    }

    static void MmaTf32Ptx(PTXBackend backend, PTXCodeGenerator g, Value value) =>
        Mma(g, value, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");

    static void MmaBf16Ptx(PTXBackend backend, PTXCodeGenerator g, Value value) =>
        Mma(g, value, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32");

    static void ToTf32Ptx(PTXBackend backend, PTXCodeGenerator g, Value value)
    {
        var x = g.LoadPrimitive(value[0]);
        var target = g.AllocateHardware(value);
        using var command = g.BeginCommand("cvt.rna.tf32.f32");
        command.AppendArgument(target);
        command.AppendArgument(x);
    }

    static void PackBf16Ptx(PTXBackend backend, PTXCodeGenerator g, Value value)
    {
        var lo = g.LoadPrimitive(value[0]);
        var hi = g.LoadPrimitive(value[1]);
        var target = g.AllocateHardware(value);
        using var command = g.BeginCommand("cvt.rn.bf16x2.f32");
        command.AppendArgument(target);
        command.AppendArgument(hi);
        command.AppendArgument(lo);
    }

    /// <summary>Registers the PTX implementations with <paramref name="context"/> (once per context, before compiling).</summary>
    public static void Register(Context context)
    {
        var manager = context.GetIntrinsicManager();
        foreach (var (name, ptx) in new[] { (nameof(MmaTf32), nameof(MmaTf32Ptx)), (nameof(MmaBf16), nameof(MmaBf16Ptx)),
                     (nameof(ToTf32), nameof(ToTf32Ptx)), (nameof(PackBf16), nameof(PackBf16Ptx)) })
            manager.RegisterMethod(typeof(TensorCore).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!,
                new PTXIntrinsic(typeof(TensorCore), ptx, IntrinsicImplementationMode.GenerateCode));
    }
}
