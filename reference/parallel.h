/*
 * Element-wise CPU loops of at least DTB_PARALLEL_MIN elements run on OpenMP
 * threads (OMP_NUM_THREADS). Each element's arithmetic is the same whatever
 * the thread count, so results stay bitwise identical; reductions (sums of
 * squares, bias gradients, the loss) stay serial for the same reason.
 */
#ifndef DTB_REFERENCE_PARALLEL_H
#define DTB_REFERENCE_PARALLEL_H

#define DTB_PARALLEL_MIN 32768

#endif
