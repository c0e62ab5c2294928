/**
 * The text of PyTorch's CUDA OOM error (c10/cuda/CUDACachingAllocator.cpp, PyTorch >= 2.1 wording, the
 * variant used when other processes cannot be listed, as inside containers), so simulated OOM events read
 * like the ones users paste.
 */

/** formatCudaSize: PyTorch's format_size (two decimals; bytes, KiB, MiB, GiB). */
export function formatCudaSize(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  if (b <= 1024) return `${b} bytes`;
  if (b <= 1048576) return `${(b / 1024).toFixed(2)} KiB`;
  if (b <= 1073741824) return `${(b / 1048576).toFixed(2)} MiB`;
  return `${(b / 1073741824).toFixed(2)} GiB`;
}

/** CudaOomFacts: the numbers PyTorch puts into its OOM message. */
export interface CudaOomFacts {
  device: number;
  requestedBytes: number;
  totalBytes: number;
  freeBytes: number;
  processBytes: number;
  allocatedBytes: number;
  reservedUnallocatedBytes: number;
}

/** cudaOomMessage: the "CUDA out of memory. Tried to allocate ..." message for these numbers. */
export function cudaOomMessage(f: CudaOomFacts): string {
  return (
    `CUDA out of memory. Tried to allocate ${formatCudaSize(f.requestedBytes)}. ` +
    `GPU ${f.device} has a total capacity of ${formatCudaSize(f.totalBytes)} of which ${formatCudaSize(f.freeBytes)} is free. ` +
    `Including non-PyTorch memory, this process has ${formatCudaSize(f.processBytes)} memory in use. ` +
    `Of the allocated memory ${formatCudaSize(f.allocatedBytes)} is allocated by PyTorch, and ` +
    `${formatCudaSize(f.reservedUnallocatedBytes)} is reserved by PyTorch but unallocated. ` +
    `If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True ` +
    `to avoid fragmentation.  See documentation for Memory Management  ` +
    `(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)`
  );
}
