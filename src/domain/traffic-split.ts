/** Replica counts that approximate a traffic split when there is no mesh: the total stays the same. */
export function replicaSplit(stableReplicas: number, canaryReplicas: number, canaryPercent: number): { stable: number; canary: number } {
  if (canaryPercent === 0) return { stable: Math.max(1, stableReplicas + canaryReplicas), canary: 0 };
  const total = Math.max(stableReplicas + canaryReplicas, canaryPercent === 100 ? 1 : 2);
  if (canaryPercent === 100) return { stable: 0, canary: total };
  const canary = Math.min(total - 1, Math.max(1, Math.round((total * canaryPercent) / 100)));
  return { stable: total - canary, canary };
}
